import prisma from "../db.server";
import { isUniqueViolation } from "../database/unique-violation";
import { storedHintOf, type ClickReport, type StoredClickHint } from "./click-report";

/**
 * The checkout pixel's hints as stored (ClickHint): one per (shop, order, checkout token hash), so
 * a report naming another checkout cannot block the real one; a repeated report changes nothing,
 * and a report naming no checkout is kept once (the first). At most CLICK_HINTS_PER_ORDER per
 * order, so a flood of forged tokens cannot grow the table. Kept until swept
 * (CLICK_HINT_RETENTION_MS), whether or not its order came: a hint is only ever read for an order
 * of the same shop and id.
 */

/** A report for an order is useful for minutes (the order's click-data wait); a week covers a late orders/create. */
export const CLICK_HINT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The real checkout's report is one; a few more allow for a retried or re-opened Thank you page. */
export const CLICK_HINTS_PER_ORDER = 5;

/** recorded; duplicate: the same checkout (or, without one, a report without one) was kept already; full: the order has its maximum. */
export type RecordedClickHint = "recorded" | "duplicate" | "full";

export async function recordClickHint(report: ClickReport, now = new Date()): Promise<RecordedClickHint> {
  const hint = storedHintOf(report);
  const kept = await prisma.clickHint.findMany({ where: { shop: report.shop, orderId: report.orderId }, select: { checkoutTokenHash: true }, take: CLICK_HINTS_PER_ORDER });
  // The unique index does not hold for a missing hash (NULLs differ): compared here.
  if (kept.some((row) => row.checkoutTokenHash === hint.checkoutTokenHash)) return "duplicate";
  // Two reports at the same instant may both pass: the bound is this plus the concurrent few.
  if (kept.length >= CLICK_HINTS_PER_ORDER) return "full";
  try {
    await prisma.clickHint.create({ data: { shop: report.shop, orderId: report.orderId, ...hint, receivedAt: now } });
    return "recorded";
  } catch (error) {
    if (isUniqueViolation(error)) return "duplicate";
    throw error;
  }
}

/** The order's hints in arrival order (the first decides for an order without a checkout token). */
export async function clickHintsFor(shop: string, orderId: string | null): Promise<StoredClickHint[]> {
  if (!orderId) return [];
  return prisma.clickHint.findMany({ where: { shop, orderId }, orderBy: { id: "asc" }, take: CLICK_HINTS_PER_ORDER * 2, select: { affiliateId: true, checkoutTokenHash: true } });
}

/** Hourly: hints older than the retention period. */
export async function sweepClickHints(now = new Date()): Promise<number> {
  const { count } = await prisma.clickHint.deleteMany({ where: { receivedAt: { lt: new Date(now.getTime() - CLICK_HINT_RETENTION_MS) } } });
  return count;
}

/** Whether the app is installed on the shop now: its install recorded and no uninstall since. */
export async function isInstalledShop(shop: string): Promise<boolean> {
  const row = await prisma.shopSettings.findUnique({ where: { shop }, select: { uninstalledAt: true } });
  return row !== null && row.uninstalledAt === null;
}

/** Shops whose rate is tracked at once: past it, the one unseen longest is forgotten (its bucket starts full again). */
export const RATE_TRACKED_SHOPS = 10_000;

/**
 * Reports accepted per shop named in them, in this process: a token bucket of `perMinute` tokens
 * refilled continuously. A shop's reports past it are refused (429) until tokens come back; the
 * pixel does not retry, and the order is still sent, only not credited through the pixel. Anyone
 * can name any shop, so the buckets are bounded: at most `maxShops`, the least recently seen
 * dropped first.
 */
export function createReportRateLimit(perMinute: number, now: () => number = Date.now, maxShops = RATE_TRACKED_SHOPS) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const limit = (shop: string): boolean => {
    const at = now();
    const bucket = buckets.get(shop) ?? { tokens: perMinute, at };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((at - bucket.at) / 60_000) * perMinute);
    bucket.at = at;
    // A Map iterates in insertion order: re-inserting makes this shop the most recently seen.
    buckets.delete(shop);
    buckets.set(shop, bucket);
    const oldest = buckets.keys().next();
    if (buckets.size > maxShops && !oldest.done) buckets.delete(oldest.value);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  return Object.assign(limit, { trackedShops: () => buckets.size });
}
