import type { DeliveryReason, Prisma } from "@prisma/client";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { CANCEL_KIND, ORDER_KIND } from "../outbox/delivery-kind";
import type { DeliveryStatus } from "../outbox/delivery-status";
import { keepPersonalDataRemoved } from "../privacy/personal-data";
import { CANCELLED_BEFORE_SENDING, rebuildPendingReversals, settleReversalsAwaitingOrder } from "../reversals/store.server";
import { getShopSettings } from "../settings/shop-settings.server";
import { clickHintsFor } from "../attribution/click-hints.server";
import { PAST_ORDER_SKIP_REASONS } from "./payment-status";
import { planOrder, plannedColumns, type OrderTrigger } from "./plan";
import { storedOrderJson } from "./stored-order";

/**
 * Sending an order that was not delivered (failed, or skipped for a reason that may no longer
 * hold) once more: the merchant's Retry, and "resend past orders" meeting an order it already
 * has. Never for an order Shopify cancelled (nothing would reverse it), and never twice: every
 * change is a conditional update on the status and reason the row was read with.
 */

/** Skip codes that say the order was cancelled, refunded in full or voided: such an order is never sent. */
const NEVER_SEND_REASONS = new Set<DeliveryReason>([...CANCELLED_BEFORE_SENDING, ...PAST_ORDER_SKIP_REASONS]);

export function isCancelledOrderSkip(reasonCode: DeliveryReason | null): boolean {
  return reasonCode !== null && NEVER_SEND_REASONS.has(reasonCode);
}

/**
 * Whether Shopify cancelled the order as far as the app knows: an order skipped for it, or a
 * cancellation recorded for it (except one recorded while the shop keeps the commission of
 * cancelled orders, where the order stays credited by the merchant's choice).
 */
export async function wasCancelled(shop: string, orderId: string, orderRow?: { status: string; reasonCode: DeliveryReason | null }): Promise<boolean> {
  if (orderRow && orderRow.status === "skipped" && isCancelledOrderSkip(orderRow.reasonCode)) return true;
  const cancel = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: CANCEL_KIND } },
    select: { status: true, reasonCode: true },
  });
  return cancel !== null && !(cancel.status === "skipped" && cancel.reasonCode === "cancellations_off");
}

/** Whether any of the order's commission was (or is being) taken back in Refersion. */
export async function hasReversedCommission(shop: string, orderId: string): Promise<boolean> {
  const reversal = await prisma.delivery.findFirst({
    where: { shop, orderId, kind: { not: ORDER_KIND }, status: { in: ["delivered", "pending", "retrying", "waiting_for_keys"] } },
    select: { id: true },
  });
  return reversal !== null;
}

export type RequeueResult =
  | { requeued: true; status: DeliveryStatus; deliveryId: string }
  | {
      requeued: false;
      why: "not_found" | "not_eligible" | "cancelled" | "still_skipped" | "not_mapped" | "changed";
      /** For still_skipped and not_mapped: why (unmappable comes with the mapping's message). */
      reasonCode?: DeliveryReason;
      reasonDetail?: string;
    };

/**
 * Queues a failed or skipped order again, decided afresh:
 * - `payload` (resend past orders: the order as Shopify has it now) is mapped and judged with the
 *   settings of now, as its orders/create would be today (cancelled or fully refunded past
 *   orders stay skipped; with the "paid" trigger an unpaid one waits for payment);
 * - without it (the merchant's Retry) a skipped order is judged again from its stored payload
 *   and the settings of now (forwarding switched back on, test orders now forwarded), while a
 *   failed order is queued with the JSON it had.
 * A skip that still holds (a test order while test orders are not forwarded, a zero-value order)
 * leaves the row as it is and says why. Refunds set aside because the order was not delivered
 * are planned again against it, so they are reversed after it.
 */
export async function requeueOrder(
  shop: string,
  orderId: string,
  options: { payload?: unknown; now?: Date } = {},
): Promise<RequeueResult> {
  return requeue(shop, orderId, { ...options, trigger: "backfill", onlyUnmappable: false });
}

/**
 * An order whose row failed because its first payload could not be mapped (an invalid amount, a
 * currency missing), when a later webhook of the order (orders/create again, orders/paid) brings
 * a payload that can be: the row is planned again from that payload, with that trigger, and
 * records what the order now deserves, a skip included. Rows failed for any other reason, and
 * every other status, are left alone (a webhook never resends an order).
 */
export async function replaceUnmappableOrder(
  shop: string,
  orderId: string,
  payload: unknown,
  trigger: Extract<OrderTrigger, "orders/create" | "orders/paid">,
  now = new Date(),
): Promise<RequeueResult> {
  return requeue(shop, orderId, { payload, now, trigger, onlyUnmappable: true });
}

async function requeue(
  shop: string,
  orderId: string,
  options: { payload?: unknown; now?: Date; trigger: Extract<OrderTrigger, "orders/create" | "orders/paid" | "backfill">; onlyUnmappable: boolean },
): Promise<RequeueResult> {
  const now = options.now ?? new Date();
  const row = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
    select: { id: true, status: true, reasonCode: true, requestBody: true, orderPayload: true, personalDataRemovedAt: true, updatedAt: true },
  });
  if (!row) return { requeued: false, why: "not_found" };
  const unmappable = row.status === "failed" && row.reasonCode === "unmappable";
  if (options.onlyUnmappable ? !unmappable : row.status !== "failed" && row.status !== "skipped") return { requeued: false, why: "not_eligible" };
  if (await wasCancelled(shop, orderId, row)) return { requeued: false, why: "cancelled" };

  const fresh = options.payload !== undefined;
  // An order whose buyer's data was removed (customers/redact, retention) stays without it. An
  // order that could not be mapped is mapped again from what it stored (the settings, or the
  // app, may have changed since: a currency now reported in the shop's).
  const payload = fresh
    ? keepPersonalDataRemoved(options.payload, row.personalDataRemovedAt)
    : row.status === "skipped" || unmappable
      ? parseStored(row.orderPayload)
      : undefined;
  let data: Prisma.DeliveryUpdateManyMutationInput;
  let status: DeliveryStatus = "pending";
  if (payload === undefined) {
    // A failed order, retried by the merchant: sent again as it was mapped.
    if (!row.requestBody) return { requeued: false, why: "not_mapped", reasonCode: "never_mapped" };
    data = { status: "pending", reasonCode: null, reasonDetail: null };
  } else {
    // Only a fresh payload tells whether the order is paid now, or was cancelled or refunded
    // since; a retried one is judged on what the app stored.
    const plan = planOrder(payload, await getShopSettings(shop), fresh ? options.trigger : "retry", { hints: await clickHintsFor(shop, orderId) });
    if (!plan.mapped) return { requeued: false, why: "not_mapped", reasonCode: plan.reasonCode, reasonDetail: plan.reasonDetail };
    // A replaced unmappable row records the skip: that is now what the order deserves.
    if (plan.status === "skipped" && !options.onlyUnmappable) return { requeued: false, why: "still_skipped", reasonCode: plan.reasonCode ?? undefined };
    status = plan.status;
    data = { ...plannedColumns(plan), sourceExcerpt: null, ...(fresh ? { orderPayload: storedOrderJson(payload) } : {}) };
  }
  const { count } = await prisma.delivery.updateMany({
    // updatedAt too: a cancellation recorded since wasCancelled() locks (touches) the order's
    // row, and this then does nothing rather than send an order whose cancellation is skipped.
    where: { id: row.id, shop, status: row.status, reasonCode: row.reasonCode, updatedAt: row.updatedAt },
    data: { ...data, nextAttemptAt: now, firstAttemptAt: null, leaseOwner: null, leaseUntil: null },
  });
  if (count === 0) return { requeued: false, why: "changed" };
  // The order's JSON may have changed: unsent reversals cancel what it now sends, and refunds
  // skipped because it had not been delivered are planned against it.
  await rebuildPendingReversals(shop, orderId);
  await settleReversalsAwaitingOrder(shop, orderId, now, { neverSent: true });
  logger.info("order queued again", { shop, orderId, deliveryId: row.id, previousStatus: row.status, status });
  return { requeued: true, status, deliveryId: row.id };
}

function parseStored(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
