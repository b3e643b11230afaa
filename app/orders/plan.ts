import type { AttributionSource, DeliveryReason, DeliveryStatus } from "@prisma/client";
import { clickAffiliateFor, type StoredClickHint } from "../attribution/click-report";
import { mapOrderToConversion } from "../refersion/mapping";
import { hasKeys, mappingOptionsFor, type StoredSettings } from "../settings/shop-settings.server";
import { orderIdOf, orderPlacedAtOf } from "./order-id";
import { hasBeenPaid, pastOrderSkipReason } from "./payment-status";

/**
 * What asks for an order to be planned:
 * - `orders/create`: its webhook; with the "paid" trigger an unpaid order waits for payment;
 * - `orders/paid`: its payment (the release of an order waiting for it, or a missed orders/create);
 * - `backfill`: "resend past orders" read it from Shopify now; a past order cancelled, refunded in
 *   full or voided is not sent, and with the "paid" trigger an unpaid one waits;
 * - `keys_saved`: the shop saved its keys, releasing orders that waited for them;
 * - `retry`: the merchant's Retry of a skipped order, judged again from its stored payload.
 */
export type OrderTrigger = "orders/create" | "orders/paid" | "backfill" | "keys_saved" | "retry";

/** The order's outbox columns, as its mapping gives them. */
export interface OrderColumns {
  orderName: string | null;
  totalAmount: string;
  currency: string;
  customerId: string | null;
  requestBody: string;
  /** When the customer placed it: a resent past order is charted on that day. */
  orderPlacedAt: Date | null;
  /** What credits it at Refersion: cart token, cart attribute, the pixel's click, a discount code, none. */
  attributionSource: AttributionSource;
}

/** The checkout pixel's hints for the order (app/attribution/), in arrival order: none when none was reported. */
export interface OrderClicks {
  hints: readonly StoredClickHint[];
}

const NO_CLICKS: OrderClicks = { hints: [] };

export type OrderPlan =
  | {
      mapped: true;
      orderId: string;
      status: DeliveryStatus;
      reasonCode: DeliveryReason | null;
      columns: OrderColumns;
      /** How long a pending order waits for the pixel's click data before it is due (0: due now). */
      clickWaitMs: number;
    }
  | { mapped: false; orderId: string | null; status: "failed"; reasonCode: "unmappable"; reasonDetail: string };

/**
 * Map -> decide, once for every way an order reaches the outbox: whether it is sent now, waits for
 * payment or for keys, or is recorded as skipped (with a code), and the JSON Refersion gets.
 * Pure: the caller reads the settings and writes the row.
 */
export function planOrder(payload: unknown, settings: StoredSettings, trigger: OrderTrigger, clicks: OrderClicks = NO_CLICKS): OrderPlan {
  // The pixel's click, when the hint may be trusted for this order; the mapping uses it only for
  // an order without a storefront cart (docs/attribution.md).
  const mapped = mapOrderToConversion(payload, { ...mappingOptionsFor(settings), clickAffiliateId: clickAffiliateFor(payload, clicks.hints) });
  if (!mapped.ok) return { mapped: false, orderId: orderIdOf(payload), status: "failed", reasonCode: "unmappable", reasonDetail: mapped.error.message };
  const { summary, conversion } = mapped;
  const waitsForPayment = (trigger === "orders/create" || trigger === "backfill") && settings.forwardTrigger === "paid" && !hasBeenPaid(payload);
  // A past order already cancelled or refunded in full is recorded, but not sent.
  const pastOrderSkip = trigger === "backfill" ? pastOrderSkipReason(payload) : null;
  // An order Refersion cannot match by a cart (Buy it now, express buttons) waits a few minutes for
  // the checkout pixel's report, when it arrives new and the shop's pixel runs.
  const waitsForClick =
    trigger === "orders/create" &&
    (mapped.attribution === "discount_code" || mapped.attribution === "none") &&
    settings.pixelStatus === "connected" &&
    settings.clickDataWaitMinutes > 0;
  const decide = (): { status: DeliveryStatus; reasonCode: DeliveryReason | null } => {
    if (settings.uninstalledAt) return { status: "skipped", reasonCode: "uninstalled_on_arrival" };
    if (!settings.forwardingEnabled) return { status: "skipped", reasonCode: "forwarding_off_on_arrival" };
    if (summary.test && !settings.forwardTestOrders) return { status: "skipped", reasonCode: "test_order" };
    if (summary.zeroValue) return { status: "skipped", reasonCode: "zero_value" };
    if (pastOrderSkip) return { status: "skipped", reasonCode: pastOrderSkip };
    if (waitsForPayment) return { status: "waiting_for_payment", reasonCode: null };
    if (!hasKeys(settings)) return { status: "waiting_for_keys", reasonCode: null };
    if (waitsForClick) return { status: "pending", reasonCode: "awaiting_click_data" };
    return { status: "pending", reasonCode: null };
  };
  const decided = decide();
  return {
    mapped: true,
    orderId: summary.orderId,
    ...decided,
    clickWaitMs: decided.reasonCode === "awaiting_click_data" ? settings.clickDataWaitMinutes * 60_000 : 0,
    columns: {
      orderName: summary.name,
      totalAmount: summary.total,
      currency: summary.currency,
      customerId: summary.customerId,
      requestBody: JSON.stringify(conversion),
      orderPlacedAt: orderPlacedAtOf(payload),
      attributionSource: mapped.attribution,
    },
  };
}

/** The columns a plan writes on the order's row (a plan that could not map keeps the row's summary). */
export function plannedColumns(plan: OrderPlan) {
  return plan.mapped
    ? { status: plan.status, reasonCode: plan.reasonCode, reasonDetail: null, ...plan.columns }
    : { status: plan.status, reasonCode: plan.reasonCode, reasonDetail: plan.reasonDetail };
}
