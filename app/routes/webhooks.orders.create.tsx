import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import { acceptOrderWebhook } from "../forwarding/order-intake.server";

/**
 * orders/create: verified by the library (forged HMAC -> 401), recorded in the outbox, and
 * acknowledged at once. Refersion is called later by the delivery worker, never from here.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, payload, webhookId } = await authenticate.webhook(request);
  await acceptOrderWebhook({ shop, payload, webhookId: webhookId ?? null });
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: the library answers anything else with 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.webhook(request);
  return new Response(null, { status: 405 });
};
