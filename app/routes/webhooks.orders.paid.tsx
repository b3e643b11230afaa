import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { receiveOrderPaid } from "../webhooks/order-webhooks.server";
import { receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/paid: verified by the library (forged HMAC -> 401), then either releases the order
 * waiting for payment (the "paid" trigger) or records it if orders/create never did. Acknowledged
 * at once; Refersion is called by the delivery worker.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  await receiveOrderPaid(await receiveWebhook(request));
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
