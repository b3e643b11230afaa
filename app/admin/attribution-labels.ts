import type { AttributionSource, DeliveryReason } from "@prisma/client";

/** How an order is credited at Refersion, as the delivery log, its detail and the home page name it. */
export const ATTRIBUTION_LABELS: Record<AttributionSource, string> = {
  cart_token: "Cart token",
  cart_attribute: "Cart attribute",
  pixel: "Checkout pixel",
  discount_code: "Discount code",
  none: "None",
};

/** What the merchant reads while an order waits for the checkout pixel's report. */
export const WAITING_FOR_CLICK_DATA = "Waiting for click data";

/** The log's "Attribution" of a row: null for reversals and for orders recorded before it was kept. */
export function attributionLabelOf(row: {
  kind: string;
  status: string;
  reasonCode: DeliveryReason | null;
  attributionSource: AttributionSource | null;
}): string | null {
  if (row.kind !== "order") return null;
  if (row.status === "pending" && row.reasonCode === "awaiting_click_data") return WAITING_FOR_CLICK_DATA;
  return row.attributionSource ? ATTRIBUTION_LABELS[row.attributionSource] : null;
}

export interface AttributionSharesView {
  days: number;
  total: number;
  /** Every source with its count and its share of the total in whole percent. */
  sources: { source: AttributionSource; label: string; count: number; percent: number }[];
}

/** The home page's "How orders are credited" for one period. */
export function attributionSharesView(shares: { days: number; total: number; counts: Record<AttributionSource, number> }): AttributionSharesView {
  const sources = (Object.keys(ATTRIBUTION_LABELS) as AttributionSource[]).map((source) => ({
    source,
    label: ATTRIBUTION_LABELS[source],
    count: shares.counts[source] ?? 0,
    percent: shares.total > 0 ? Math.round(((shares.counts[source] ?? 0) / shares.total) * 100) : 0,
  }));
  return { days: shares.days, total: shares.total, sources };
}
