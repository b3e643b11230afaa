import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { acceptCancellationWebhook } from "../lifecycle/reversals.server";
import { CANCEL_KIND } from "../forwarding/delivery-kind";
import { recordUnreadableWebhook } from "../forwarding/order-intake.server";
import { isUnreadable, receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/cancelled: verified by the library (forged HMAC -> 401), recorded as a reversal of the
 * order's commission in the outbox, and acknowledged. The worker sends it after the order.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    await recordUnreadableWebhook({ ...webhook, kind: CANCEL_KIND });
  } else {
    await acceptCancellationWebhook({ shop: webhook.shop, payload: webhook.payload, webhookId: webhook.webhookId ?? null });
  }
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
