import { acceptOrderWebhook } from "../orders/intake.server";
import { orderIdOf } from "../orders/order-id";
import { acceptPaidOrderWebhook } from "../orders/paid.server";
import { CANCEL_KIND, UNREADABLE_REFUND_KIND } from "../outbox/delivery-kind";
import { recordUnreadableWebhook } from "../outbox/unreadable.server";
import { acceptCancellationWebhook, acceptRefundWebhook } from "../reversals/intake.server";
import type { WebhookEffects } from "./handle-webhook.server";
import { isUnreadable, type UnreadableWebhook, type VerifiedWebhook } from "./receive-webhook.server";

/**
 * The order lifecycle's webhooks, from a verified body to the domain: orders/create and orders/paid
 * to app/orders/, orders/cancelled and refunds/create to app/reversals/. A body that cannot be
 * read is recorded as what it would have been (an order, a cancellation or a refund). Nothing
 * here calls Refersion: the outbox's worker does.
 */
type Received = VerifiedWebhook | UnreadableWebhook;

const fields = (webhook: VerifiedWebhook) => ({ shop: webhook.shop, payload: webhook.payload, webhookId: webhook.webhookId ?? null });

export async function receiveOrderCreated(webhook: Received): Promise<void> {
  if (isUnreadable(webhook)) await recordUnreadableWebhook(webhook);
  else await acceptOrderWebhook(fields(webhook));
}

export async function receiveOrderPaid(webhook: Received): Promise<void> {
  if (isUnreadable(webhook)) await recordUnreadableWebhook(webhook);
  else await acceptPaidOrderWebhook(fields(webhook));
}

export async function receiveOrderCancelled(webhook: Received): Promise<void> {
  if (isUnreadable(webhook)) await recordUnreadableWebhook({ ...webhook, kind: CANCEL_KIND });
  else await acceptCancellationWebhook({ ...fields(webhook), orderId: orderIdOf(webhook.payload) });
}

export async function receiveRefundCreated(webhook: Received): Promise<void> {
  if (isUnreadable(webhook)) await recordUnreadableWebhook({ ...webhook, kind: UNREADABLE_REFUND_KIND });
  else await acceptRefundWebhook(fields(webhook));
}

/** The order lifecycle's topics, each with its effects: used by its route and by the fast path's background work. */
export const ORDER_WEBHOOK_EFFECTS = {
  "orders/create": { verified: receiveOrderCreated, unreadable: receiveOrderCreated },
  "orders/paid": { verified: receiveOrderPaid, unreadable: receiveOrderPaid },
  "orders/cancelled": { verified: receiveOrderCancelled, unreadable: receiveOrderCancelled },
  "refunds/create": { verified: receiveRefundCreated, unreadable: receiveRefundCreated },
} as const satisfies Record<string, WebhookEffects>;

export type OrderWebhookTopic = keyof typeof ORDER_WEBHOOK_EFFECTS;

export function isOrderWebhookTopic(topic: string): topic is OrderWebhookTopic {
  return Object.hasOwn(ORDER_WEBHOOK_EFFECTS, topic);
}
