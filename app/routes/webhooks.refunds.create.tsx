import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { receiveRefundCreated } from "../webhooks/order-webhooks.server";
import { receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * refunds/create: verified by the library (forged HMAC -> 401), recorded as a reversal of the
 * refunded items in the outbox (or as skipped, with why), and acknowledged.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  await receiveRefundCreated(await receiveWebhook(request));
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
