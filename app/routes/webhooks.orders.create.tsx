import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { receiveOrderCreated } from "../webhooks/order-webhooks.server";
import { receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/create: verified by the library (forged HMAC -> 401), recorded in the outbox, and
 * acknowledged at once. Refersion is called later by the delivery worker, never from here.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  await receiveOrderCreated(await receiveWebhook(request));
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
