import prisma from "../db.server";
import { clickHintsFor, createReportRateLimit, isInstalledShop, recordClickHint } from "../attribution/click-hints.server";
import { unmatchedReportCount, type ClickReport, type StoredClickHint } from "../attribution/click-report";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { ORDER_KIND } from "../outbox/delivery-kind";
import type { DeliveryStatus } from "../outbox/delivery-status";
import { rebuildPendingReversals } from "../reversals/store.server";
import { getShopSettings } from "../settings/shop-settings.server";
import { planOrder } from "./plan";

/**
 * The checkout pixel's report, an untrusted hint (docs/decisions/0015-pixel-hints.md): kept for
 * its order, which it may credit only if that order has no storefront cart, was not sent yet,
 * and (when the order names its checkout) came from the same checkout. The order webhook may
 * come before or after the report; both ways end in the same row.
 */

/**
 * - credited: the order's row now carries the click (and its wait for click data ended);
 * - kept: stored for an order not received yet, or not one the hint may change now;
 * - duplicate: a report for this order and checkout was already kept (the first one stands), or
 *   the order has its most reports (CLICK_HINTS_PER_ORDER);
 * - not_applicable: the order was already sent, or Refersion matches it by its cart;
 * - unknown_shop: the app is not installed on the shop (answered as an ignored report, so the
 *   answer does not tell which shops use the app); rate_limited: too many for the shop named,
 *   counted before any database read, whether or not it is installed.
 */
export type ClickReportOutcome = "credited" | "kept" | "duplicate" | "not_applicable" | "unknown_shop" | "rate_limited";

/** A row the hint may still change: not sent, never attempted. */
const CHANGEABLE: DeliveryStatus[] = ["pending", "waiting_for_keys", "waiting_for_payment"];

let withinRate: ((shop: string) => boolean) | null = null;

export async function acceptClickReport(report: ClickReport, now = new Date()): Promise<ClickReportOutcome> {
  const { shop, orderId } = report;
  withinRate ??= createReportRateLimit(env().PIXEL_REPORTS_PER_MINUTE);
  if (!withinRate(shop)) return "rate_limited";
  if (!(await isInstalledShop(shop))) return "unknown_shop";
  const row = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
    select: { status: true, attempts: true, attributionSource: true },
  });
  // Sent, or credited by the cart the storefront reported: nothing for the hint to do, nothing kept.
  if (row && (row.status === "delivered" || row.attempts > 0 || row.attributionSource === "cart_token" || row.attributionSource === "cart_attribute")) {
    return "not_applicable";
  }
  if ((await recordClickHint(report, now)) !== "recorded") return "duplicate";
  if (!row) return "kept";
  return (await applyClickHint(shop, orderId, now)) ? "credited" : "kept";
}

/**
 * Plans the order's row again with its stored hints, if both exist and the row may still change:
 * its JSON gains auto_credit_affiliate_id and its source becomes "pixel"; a row waiting for click
 * data is due at once. Conditional on the row as read (status, last change, no attempt, no live
 * lease): a row the worker has taken meanwhile is left as it is. Called by the report and by the
 * intake after it recorded an order that waits (a report arriving between the two reads).
 */
export async function applyClickHint(shop: string, orderId: string, now = new Date()): Promise<boolean> {
  const hints = await clickHintsFor(shop, orderId);
  if (hints.length === 0) return false;
  const row = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
    select: { id: true, status: true, attempts: true, reasonCode: true, orderPayload: true, updatedAt: true },
  });
  if (!row || !row.orderPayload || row.attempts > 0 || !CHANGEABLE.includes(row.status)) return false;
  const order: unknown = JSON.parse(row.orderPayload);
  const plan = planOrder(order, await getShopSettings(shop), "orders/create", { hints });
  if (!plan.mapped || plan.columns.attributionSource !== "pixel") {
    warnIfNoReportMatches(shop, orderId, order, hints);
    return false;
  }
  const waited = row.reasonCode === "awaiting_click_data";
  const { count } = await prisma.delivery.updateMany({
    // updatedAt rather than the body, which is sealed at rest (app/database/sealed-columns.server.ts).
    where: { id: row.id, shop, status: row.status, attempts: 0, updatedAt: row.updatedAt, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    data: { requestBody: plan.columns.requestBody, attributionSource: "pixel", ...(waited ? { reasonCode: null, nextAttemptAt: now } : {}) },
  });
  if (count === 0) return false;
  // Reversals recorded meanwhile cancel exactly what will be sent.
  await rebuildPendingReversals(shop, orderId);
  logger.info("order credited from the checkout pixel", { shop, orderId });
  return true;
}

/**
 * The operator's warning for an order whose reports all named another checkout than its
 * checkout_token: forged reports, or the pixel's checkout.token no longer being the webhook's
 * checkout_token (docs/web-pixel.md), which must not fail silently. Counts only, no token.
 */
export function warnIfNoReportMatches(shop: string, orderId: string, order: unknown, hints: readonly StoredClickHint[]): void {
  const reports = unmatchedReportCount(order, hints);
  if (reports > 0) logger.warn(`checkout token did not match any report for order ${orderId}`, { shop, orderId, reports });
}
