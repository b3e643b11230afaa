import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { recordUnreadableWebhook } from "../forwarding/order-intake.server";
import { acceptPaidOrderWebhook } from "../lifecycle/paid-trigger.server";
import { isUnreadable, receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/paid: verified by the library (forged HMAC -> 401), then either releases the order
 * waiting for payment (the "paid" trigger) or records it if orders/create never did. Acknowledged
 * at once; Refersion is called by the delivery worker.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    await recordUnreadableWebhook(webhook);
  } else {
    await acceptPaidOrderWebhook({ shop: webhook.shop, payload: webhook.payload, webhookId: webhook.webhookId ?? null });
  }
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
