import { CANCEL_KIND, refundKind, UNREADABLE_REFUND_KIND, type DeliveryKind } from "../outbox/delivery-kind";
import { recordUnreadableWebhook } from "../outbox/unreadable.server";
import { mapOrderToConversion } from "../refersion/mapping";
import { getShopSettings, mappingOptionsFor, type StoredSettings } from "../settings/shop-settings.server";
import { readRefund } from "./reversal-mapping";
import { recordReversal, type CancelledOrderSummary, type ReversalResult } from "./store.server";

export type ReversalIntakeResult = ReversalResult | { outcome: "unreadable"; deliveryId: string | null; reason: string };

/**
 * orders/cancelled: the whole order's commission is reversed (what is left of it after its
 * refunds), when the shop reverses cancellations (on by default). Never calls Refersion. A
 * cancellation that arrives before the order itself records the order (its payload is the whole
 * order) as skipped, so the orders/create that follows is a duplicate and is never sent.
 * `orderId` is the id the payload names exactly (app/orders/order-id.ts), null when none.
 */
export async function acceptCancellationWebhook(input: {
  shop: string;
  orderId: string | null;
  payload: unknown;
  webhookId: string | null;
}): Promise<ReversalIntakeResult> {
  const { orderId } = input;
  if (!orderId) return unreadable(input, CANCEL_KIND, "The cancelled order has no id that can be read exactly");
  const settings = await getShopSettings(input.shop);
  return recordReversal({
    shop: input.shop,
    orderId,
    kind: CANCEL_KIND,
    source: { reversal: "cancel" },
    webhookId: input.webhookId,
    skipReason: settings.reverseCancellations ? null : "cancellations_off",
    cancelledOrder: () => summaryOf(input.payload, settings),
  });
}

/** The log's columns for an order recorded from its orders/cancelled payload (null fields when it cannot be mapped). */
function summaryOf(payload: unknown, settings: StoredSettings): CancelledOrderSummary {
  const mapped = mapOrderToConversion(payload, mappingOptionsFor(settings));
  if (!mapped.ok) return { orderName: null, totalAmount: null, currency: null, customerId: null };
  const { name, total, currency, customerId } = mapped.summary;
  return { orderName: name, totalAmount: total, currency, customerId };
}

/**
 * refunds/create: the refunded items' commission is reversed, each refund on its own (kind
 * `refund:<refund id>`), when the shop reverses refunds (on by default). A refund that returns no
 * money (a restock, a zero-amount refund) or no items (shipping only, an amount only) reverses
 * nothing and is recorded as skipped with the reason. A refund that arrives before its order is
 * recorded as waiting for it, and planned when the order is recorded.
 */
export async function acceptRefundWebhook(input: { shop: string; payload: unknown; webhookId: string | null }): Promise<ReversalIntakeResult> {
  const refund = readRefund(input.payload);
  if (!refund.ok) return unreadable(input, UNREADABLE_REFUND_KIND, refund.error);
  const settings = await getShopSettings(input.shop);
  const skipReason = !settings.reverseRefunds
    ? "refunds_off"
    : !refund.moneyReturned
      ? "no_money_refunded"
      : refund.lines.length === 0
        ? "no_items_refunded"
        : null;
  return recordReversal({
    shop: input.shop,
    orderId: refund.orderId,
    kind: refundKind(refund.refundId),
    source: { reversal: "refund", refundId: refund.refundId, lines: refund.lines },
    webhookId: input.webhookId,
    skipReason,
  });
}

/**
 * A signed reversal that names no order (or refund) that can be read: recorded as a failed row
 * with the reason and an excerpt, so the merchant sees it; Shopify would only resend the same.
 */
async function unreadable(
  input: { shop: string; payload: unknown; webhookId: string | null },
  kind: DeliveryKind,
  reason: string,
): Promise<ReversalIntakeResult> {
  const recorded = await recordUnreadableWebhook({
    shop: input.shop,
    webhookId: input.webhookId,
    kind,
    reason,
    rawExcerpt: (JSON.stringify(input.payload) ?? "").slice(0, 2_000),
  });
  return { outcome: "unreadable", deliveryId: recorded.deliveryId, reason };
}
