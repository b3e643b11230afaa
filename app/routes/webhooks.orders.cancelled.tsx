import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { acceptCancellationWebhook } from "../lifecycle/reversals.server";
import { logger } from "../logger.server";
import { isUnreadable, receiveWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/cancelled: verified by the library (forged HMAC -> 401), recorded as a reversal of the
 * order's commission in the outbox, and acknowledged. The worker sends it after the order.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    // No order can be named from it: logged, acknowledged (Shopify would resend the same bytes).
    logger.warn("unreadable orders/cancelled webhook", { shop: webhook.shop, webhookId: webhook.webhookId, reason: webhook.reason });
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
