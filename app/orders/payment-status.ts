import type { DeliveryReason } from "@prisma/client";

/**
 * Whether Shopify reports an order as paid, from the REST order's `financial_status`
 * (orders/create, orders/paid, and the orders "resend past orders" reads).
 *
 * `paid` is what orders/paid announces. `partially_refunded` and `refunded` can only follow a
 * payment, so a past order in those states was paid too. `pending`, `authorized` (captured
 * later), `partially_paid` (deposits, pay later), `voided`, `expired` and a missing status are
 * not paid: with the "paid" trigger such an order waits for its orders/paid.
 */
const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

export function hasBeenPaid(order: unknown): boolean {
  if (!order || typeof order !== "object") return false;
  const status = (order as { financial_status?: unknown }).financial_status;
  return typeof status === "string" && PAID_STATUSES.has(status.trim().toLowerCase());
}

/**
 * Why a past order read by "resend past orders" is not sent at all: a cancelled order, one
 * refunded in full, or one whose payment was voided earns no commission, and the cancellation
 * or refund that would reverse it happened before the app had the order. Null: send it (a
 * partially refunded order is sent, and its refunds are reversed beside it).
 */
export const PAST_ORDER_SKIP_REASONS = ["cancelled_before_resend", "refunded_before_resend", "voided_before_resend"] as const satisfies DeliveryReason[];

export function pastOrderSkipReason(order: unknown): (typeof PAST_ORDER_SKIP_REASONS)[number] | null {
  if (!order || typeof order !== "object") return null;
  const record = order as { cancelled_at?: unknown; financial_status?: unknown };
  if (typeof record.cancelled_at === "string" && record.cancelled_at.trim()) return "cancelled_before_resend";
  const status = typeof record.financial_status === "string" ? record.financial_status.trim().toLowerCase() : "";
  if (status === "refunded") return "refunded_before_resend";
  if (status === "voided") return "voided_before_resend";
  return null;
}
