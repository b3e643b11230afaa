import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { acceptRefundWebhook } from "../lifecycle/reversals.server";
import { UNREADABLE_REFUND_KIND } from "../forwarding/delivery-kind";
import { recordUnreadableWebhook } from "../forwarding/order-intake.server";
import { isUnreadable, receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * refunds/create: verified by the library (forged HMAC -> 401), recorded as a reversal of the
 * refunded items in the outbox (or as skipped, with why), and acknowledged.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    await recordUnreadableWebhook({ ...webhook, kind: UNREADABLE_REFUND_KIND });
  } else {
    await acceptRefundWebhook({ shop: webhook.shop, payload: webhook.payload, webhookId: webhook.webhookId ?? null });
  }
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await receiveWebhook(request);
  return new Response(null, { status: 405 });
};
