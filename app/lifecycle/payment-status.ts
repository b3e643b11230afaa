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
