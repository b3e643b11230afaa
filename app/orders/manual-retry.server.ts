import type { DeliveryReason } from "@prisma/client";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { ORDER_KIND } from "../outbox/delivery-kind";
import type { DeliveryStatus } from "../outbox/delivery-status";
import { requeueFailedReversal } from "../reversals/store.server";
import { hasReversedCommission, requeueOrder, wasCancelled } from "./requeue.server";

export type ManualRetryRefusal =
  | "not_found"
  | "already_queued"
  | "not_mapped"
  | "waiting_for_keys"
  | "waiting_for_payment"
  /** Shopify cancelled the order: sending it would credit an order nothing will reverse. */
  | "cancelled"
  /** A resend of an order whose commission was (partly) reversed would credit it again. */
  | "reversed"
  /** Skipped for a reason that still holds (`reasonCode` says which). */
  | "still_skipped"
  /** Only a failed reversal can be retried; it is never resent. */
  | "not_retryable";

export type ManualRetryResult =
  | { ok: true; status: "pending" }
  | { ok: false; reason: ManualRetryRefusal; reasonCode?: DeliveryReason; reasonDetail?: string };

/**
 * Queues a delivery again at the merchant's request: a failed order is retried, a skipped one is
 * judged again with the settings of now (app/orders/requeue.server.ts), a delivered one
 * is resent, a failed reversal is retried. Never for a cancelled order, and never a resend that
 * would credit reversed commission again. Every change is conditional on the status the row had,
 * so a second click (or two admins at once) queues it once. A new 72-hour retry window starts.
 */
export async function retryDelivery(shop: string, where: { deliveryId: string } | { orderId: string }, now = new Date()): Promise<ManualRetryResult> {
  const row = await prisma.delivery.findFirst({
    // The command line names an order; the admin names any row of the log.
    where: { shop, ...("deliveryId" in where ? { id: where.deliveryId } : { orderId: where.orderId, kind: ORDER_KIND }) },
    select: { id: true, kind: true, orderId: true, status: true, reasonCode: true, requestBody: true, updatedAt: true },
  });
  if (!row) return { ok: false, reason: "not_found" };
  if (row.status === "pending" || row.status === "retrying") return { ok: false, reason: "already_queued" };
  if (row.status === "waiting_for_keys") return { ok: false, reason: "waiting_for_keys" };
  // Sent when Shopify reports it paid (the shop's trigger), not before.
  if (row.status === "waiting_for_payment") return { ok: false, reason: "waiting_for_payment" };

  if (row.kind !== ORDER_KIND) {
    // A reversal: a failed one is planned again and tried again (the worker still sends it only
    // after its order); what later reversals already took back is not taken back twice.
    if (row.status !== "failed" || !row.requestBody) return { ok: false, reason: "not_retryable" };
    const replanned = await requeueFailedReversal(shop, row.id, now);
    if (!replanned) return { ok: false, reason: "already_queued" };
    if (replanned.status === "skipped") return { ok: false, reason: "still_skipped", reasonCode: replanned.reasonCode ?? undefined };
    logger.info("reversal queued again by the merchant", { shop, deliveryId: row.id });
    return { ok: true, status: "pending" };
  }

  if (row.status === "delivered") {
    if (await wasCancelled(shop, row.orderId, row)) return { ok: false, reason: "cancelled" };
    if (await hasReversedCommission(shop, row.orderId)) return { ok: false, reason: "reversed" };
    if (!row.requestBody) return { ok: false, reason: "not_mapped" };
    return queue(shop, row, now);
  }

  const result = await requeueOrder(shop, row.orderId, { now });
  if (result.requeued) {
    logger.info("delivery queued again by the merchant", { shop, deliveryId: row.id, previousStatus: row.status, status: result.status });
    // An order judged again may now wait for keys; to the merchant it is queued either way.
    return { ok: true, status: "pending" };
  }
  switch (result.why) {
    case "not_found":
      return { ok: false, reason: "not_found" };
    case "cancelled":
      return { ok: false, reason: "cancelled" };
    case "still_skipped":
      return { ok: false, reason: "still_skipped", reasonCode: result.reasonCode };
    case "not_mapped":
      return { ok: false, reason: "not_mapped", reasonCode: result.reasonCode, reasonDetail: result.reasonDetail };
    case "changed":
    case "not_eligible":
      return { ok: false, reason: "already_queued" };
  }
}

async function queue(shop: string, row: { id: string; status: DeliveryStatus; updatedAt: Date }, now: Date): Promise<ManualRetryResult> {
  const { count } = await prisma.delivery.updateMany({
    // Also conditional on updatedAt: a cancellation recorded since the checks above locks (and
    // so touches) the order's row, and this resend then does nothing.
    where: { id: row.id, shop, status: row.status, updatedAt: row.updatedAt },
    data: { status: "pending", reasonCode: null, reasonDetail: null, nextAttemptAt: now, firstAttemptAt: null, leaseOwner: null, leaseUntil: null },
  });
  if (count === 0) return { ok: false, reason: "already_queued" };
  logger.info("delivery queued again by the merchant", { shop, deliveryId: row.id, previousStatus: row.status });
  return { ok: true, status: "pending" };
}
