import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * The checkout pixel's report (extensions/refersion-checkout-pixel, docs/web-pixel.md "The
 * report") and what the app may take from it. Anyone can post one: it is a hint, checked here for
 * form only; whether it may credit an order is decided against the order (clickAffiliateFor).
 */

/** The path of the app's endpoint for the pixel's reports (app/routes/pixel.checkout-completed.tsx). */
export const PIXEL_REPORT_PATH = "/pixel/checkout-completed";

/** The most a report's body may be: the pixel's own is under 600 bytes. */
export const CLICK_REPORT_MAX_BYTES = 4 * 1024;

// The pixel's own bounds (src/checkout-report.ts), so every report it sends is accepted.
export const ClickReportSchema = z.strictObject({
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/),
  orderId: z.string().regex(/^[1-9]\d{0,19}$/),
  checkoutToken: z.string().regex(/^[\x21-\x7e]{1,256}$/).nullable(),
  click: z.strictObject({
    id: z.string().regex(/^[\w.:-]{1,128}$/),
    affiliateId: z.string().regex(/^[1-9]\d{0,14}$/),
    cs: z.string().regex(/^[\w.-]{1,64}$/),
  }),
});

export type ClickReport = z.infer<typeof ClickReportSchema>;

/** A body's report, or null when it is not JSON of exactly that form. */
export function parseClickReport(body: string): ClickReport | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = ClickReportSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** What is kept of a report until its order is planned: no click id, no checksum, the token hashed. */
export interface StoredClickHint {
  affiliateId: string;
  checkoutTokenHash: string | null;
}

/** The checkout token is kept (and compared) only as this: a stored copy opens nothing. */
export function checkoutTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function storedHintOf(report: ClickReport): StoredClickHint {
  return { affiliateId: report.click.affiliateId, checkoutTokenHash: report.checkoutToken ? checkoutTokenHash(report.checkoutToken) : null };
}

/** The order's checkout token (`checkout_token`), when it names one. */
function checkoutTokenOf(order: unknown): string | null {
  const token = order && typeof order === "object" ? (order as { checkout_token?: unknown }).checkout_token : undefined;
  return typeof token === "string" && token.trim() ? token.trim() : null;
}

/**
 * The hint that may speak for this order among those reported for it (in arrival order), or null:
 * when the order names its checkout (`checkout_token`, which only the buyer's browser and Shopify
 * know), the report that named the same one, whatever else was reported; an order without a
 * checkout token (Shopify may drop the deprecated field) takes the first report. Pure.
 */
export function hintForOrder(order: unknown, hints: readonly StoredClickHint[]): StoredClickHint | null {
  const orderToken = checkoutTokenOf(order);
  if (!orderToken) return hints[0] ?? null;
  const hash = checkoutTokenHash(orderToken);
  return hints.find((hint) => hint.checkoutTokenHash === hash) ?? null;
}

/**
 * How many reports the order has when none of them named its checkout token (else 0): the pixel's
 * checkout.token is taken to be the webhook's checkout_token (docs/web-pixel.md); reports that
 * never match say that may no longer hold, or that they were forged.
 */
export function unmatchedReportCount(order: unknown, hints: readonly StoredClickHint[]): number {
  return hints.length > 0 && checkoutTokenOf(order) !== null && hintForOrder(order, hints) === null ? hints.length : 0;
}

/** The affiliate id of the hint that may speak for this order (hintForOrder), or null. Pure. */
export function clickAffiliateFor(order: unknown, hints: readonly StoredClickHint[]): number | null {
  const hint = hintForOrder(order, hints);
  if (!hint || !/^[1-9]\d{0,14}$/.test(hint.affiliateId)) return null;
  return Number(hint.affiliateId);
}
