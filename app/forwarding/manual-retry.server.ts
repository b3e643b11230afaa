import prisma from "../db.server";
import { logger } from "../logger.server";

export type ManualRetryResult =
  | { ok: true; status: "pending" }
  | { ok: false; reason: "not_found" | "already_queued" | "not_mapped" | "waiting_for_keys" | "waiting_for_payment" };

/**
 * Queues a delivery again at the merchant's request: a failed or skipped order is retried, a
 * delivered one is resent. The change is conditional on the status the row had, so a second
 * click (or two admins at once) queues it once. A new 72-hour retry window starts.
 */
export async function retryDelivery(shop: string, where: { deliveryId: string } | { orderId: string }, now = new Date()): Promise<ManualRetryResult> {
  const row = await prisma.delivery.findFirst({
    where: { shop, kind: "order", ...("deliveryId" in where ? { id: where.deliveryId } : { orderId: where.orderId }) },
    select: { id: true, status: true, requestBody: true },
  });
  if (!row) return { ok: false, reason: "not_found" };
  if (row.status === "pending" || row.status === "retrying") return { ok: false, reason: "already_queued" };
  if (row.status === "waiting_for_keys") return { ok: false, reason: "waiting_for_keys" };
  // Sent when Shopify reports it paid (the shop's trigger), not before.
  if (row.status === "waiting_for_payment") return { ok: false, reason: "waiting_for_payment" };
  if (!row.requestBody) return { ok: false, reason: "not_mapped" };
  const { count } = await prisma.delivery.updateMany({
    where: { id: row.id, shop, status: row.status },
    data: { status: "pending", reason: null, nextAttemptAt: now, firstAttemptAt: null, leaseOwner: null, leaseUntil: null },
  });
  if (count === 0) return { ok: false, reason: "already_queued" };
  logger.info("delivery queued again by the merchant", { shop, deliveryId: row.id, previousStatus: row.status });
  return { ok: true, status: "pending" };
}
