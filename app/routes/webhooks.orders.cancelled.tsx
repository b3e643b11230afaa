import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { receiveOrderCancelled } from "../webhooks/order-webhooks.server";
import { receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/cancelled: verified by the library (forged HMAC -> 401), recorded as a reversal of the
 * order's commission in the outbox, and acknowledged. The worker sends it after the order.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  await receiveOrderCancelled(await receiveWebhook(request));
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
