import { Prisma, type DeliveryReason } from "@prisma/client";
import { IN_LIST_BATCH, inBatches } from "../database/batches";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { CANCEL_KIND, ORDER_KIND, type DeliveryKind } from "../outbox/delivery-kind";
import { planReversals, reversedAmount, sentOrderOf, type ReversalSource } from "./reversal-mapping";
import { isUniqueViolation } from "../database/unique-violation";

/**
 * Reversals in the outbox. A reversal is a Delivery row of kind "cancel" or "refund:<id>" beside
 * its order's row (kind "order"); the worker sends it only once that order was delivered.
 *
 * Everything that reads an order's reversals to plan another one runs in a transaction that
 * first writes the order's row: that write locks the row (PostgreSQL) or the database (SQLite),
 * so a refund and a cancellation of the same order arriving together are planned one after the
 * other and never take back the same item twice.
 */

/** Reversals that took (or will take) something back; skipped and failed ones took nothing. */
const COUNTED: Prisma.EnumDeliveryStatusFilter<"Delivery"> = { notIn: ["skipped", "failed"] };

export type ReversalOutcome =
  /** A reversal row is due; the worker sends it once its order was delivered. */
  | "queued"
  /** Recorded as skipped, with the reason. */
  | "skipped"
  /** This reversal was recorded before (Shopify sent the webhook again). */
  | "duplicate"
  /** The app never recorded the order and nothing needs recording (the reversal was not wanted anyway). */
  | "no_order"
  /** The order had not been sent yet and never will be: the order itself was skipped (or recorded as skipped). */
  | "order_skipped"
  /** A refund of an order the app has not received yet: recorded, and planned once the order arrives. */
  | "awaiting_order";

export interface ReversalResult {
  outcome: ReversalOutcome;
  deliveryId: string | null;
}

/**
 * Codes an order row is skipped with because Shopify cancelled it before it was sent. Such an
 * order must never be sent later (by a Retry or by "resend past orders"): nothing would reverse it.
 */
export const CANCELLED_BEFORE_SENDING = ["cancelled_before_paid", "cancelled_before_sent", "cancelled_before_received"] as const satisfies DeliveryReason[];

/*
 * A refund that arrived before its order (Shopify does not promise the order of webhooks, and
 * retries a failed orders/create for hours) is recorded as skipped with the code awaiting_order,
 * so nothing polls for it; it is planned and queued when the order is recorded
 * (`settleReversalsAwaitingOrder`). If the order never comes (an order from before the app was
 * installed), it stays as it is.
 */

/** What an order row shows when it is recorded from its orders/cancelled payload. */
export interface CancelledOrderSummary {
  orderName: string | null;
  totalAmount: string | null;
  currency: string | null;
  customerId: string | null;
}

type Tx = Prisma.TransactionClient;

/** Locks the order's row for the rest of the transaction; false when the app has no such order. */
async function lockOrder(tx: Tx, shop: string, orderId: string): Promise<boolean> {
  const { count } = await tx.delivery.updateMany({ where: { shop, orderId, kind: ORDER_KIND }, data: { updatedAt: new Date() } });
  return count === 1;
}

function sourceOf(text: string | null): ReversalSource | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as ReversalSource;
    if (value?.reversal === "cancel") return value;
    if (value?.reversal === "refund" && Array.isArray(value.lines)) return value;
  } catch {
    // Not a reversal's source: ignored below.
  }
  return null;
}

/**
 * Records one reversal of an order, planned against what the order sends and the reversals
 * recorded before it. `skipReason` records it as skipped instead (an option switched off, a
 * refund that returned no money). For an order the app has no row for yet, a cancellation
 * records the order as skipped (its orders/create, when it comes, is then a duplicate), and a
 * refund is set aside until the order is recorded; a reversal that was not wanted anyway records
 * nothing.
 *
 * A cancellation of an order that was never going to be sent as it is (still waiting for
 * payment, or waiting for keys while cancellations are reversed) skips the order instead:
 * sending it only to cancel it would gain nothing.
 */
export async function recordReversal(input: {
  shop: string;
  orderId: string;
  kind: DeliveryKind;
  source: ReversalSource;
  webhookId: string | null;
  skipReason?: DeliveryReason | null;
  /** A cancellation's order as its orders/cancelled payload describes it (recorded when the app has no row yet; worked out only then). */
  cancelledOrder?: () => CancelledOrderSummary;
  now?: Date;
}): Promise<ReversalResult> {
  const { shop, orderId, kind, source, webhookId } = input;
  const now = input.now ?? new Date();
  const log = logger.child({ shop, orderId, kind, webhookId });
  let result: ReversalResult;
  // Set while this call inserts the order's own row: a unique violation then means orders/create
  // recorded the order at the same moment, and the reversal is recorded again against that row.
  let insertingOrder = false;
  try {
    result = await prisma.$transaction(async (tx): Promise<ReversalResult> => {
      if (!(await lockOrder(tx, shop, orderId))) {
        // Nothing to record when the reversal was not wanted anyway (switched off, no money back).
        if (input.skipReason) return { outcome: "no_order", deliveryId: null };
        if (kind === CANCEL_KIND) {
          // Cancelled before its orders/create arrived: recording the order as skipped makes that
          // orders/create (or orders/paid, or a resend) a duplicate, so it is never sent.
          insertingOrder = true;
          const row = await tx.delivery.create({
            data: {
              shop,
              orderId,
              kind: ORDER_KIND,
              ...(input.cancelledOrder?.() ?? {}),
              status: "skipped",
              reasonCode: "cancelled_before_received",
              webhookId,
            },
            select: { id: true },
          });
          insertingOrder = false;
          return { outcome: "order_skipped", deliveryId: row.id };
        }
        const row = await tx.delivery.create({
          data: { shop, orderId, kind, status: "skipped", reasonCode: "awaiting_order", orderPayload: JSON.stringify(source), webhookId },
          select: { id: true },
        });
        return { outcome: "awaiting_order", deliveryId: row.id };
      }
      const existing = await tx.delivery.findUnique({ where: { shop_orderId_kind: { shop, orderId, kind } }, select: { id: true } });
      if (existing) return { outcome: "duplicate", deliveryId: null };
      const order = await tx.delivery.findUniqueOrThrow({
        where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
        select: { id: true, status: true, requestBody: true, orderPayload: true, orderName: true, currency: true, customerId: true },
      });

      if (kind === CANCEL_KIND) {
        const unsent: DeliveryReason | null =
          order.status === "waiting_for_payment"
            ? "cancelled_before_paid"
            : order.status === "waiting_for_keys" && !input.skipReason
              ? "cancelled_before_sent"
              : null;
        if (unsent) {
          await tx.delivery.updateMany({
            where: { shop, orderId, kind: ORDER_KIND, status: order.status },
            data: { status: "skipped", reasonCode: unsent, reasonDetail: null },
          });
          return { outcome: "order_skipped", deliveryId: null };
        }
      }

      const planned = await planReversal(tx, { shop, orderId, source, skipReason: input.skipReason ?? null, order, now });
      const row = await tx.delivery.create({
        data: {
          shop,
          orderId,
          kind,
          orderName: order.orderName,
          currency: order.currency,
          customerId: order.customerId,
          webhookId,
          // Sent only once the order is delivered; skipped if the order ends undelivered (app/outbox/worker.server.ts).
          runsAfterId: order.id,
          ...planned,
        },
        select: { id: true },
      });
      return { outcome: planned.status === "pending" ? "queued" : "skipped", deliveryId: row.id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      // orders/create recorded the order meanwhile: record the cancellation against its row.
      if (insertingOrder) return recordReversal(input);
      // Two deliveries of the same webhook at once: the second finds the first's row.
      return { outcome: "duplicate", deliveryId: null };
    }
    throw error;
  }
  log.info("reversal recorded", { outcome: result.outcome, deliveryId: result.deliveryId });
  // The order may have been recorded while this reversal was: look once more after this commit
  // (the worker settles set-aside refunds when it delivers the order, and an hourly sweep any
  // left, so one of them always finds it).
  if (result.outcome === "awaiting_order" || (result.outcome === "order_skipped" && kind === CANCEL_KIND)) {
    await settleReversalsAwaitingOrder(shop, orderId, now);
  }
  return result;
}

type OrderRow = { status: string; requestBody: string | null; orderPayload: string | null };

/**
 * What a reversal row holds, planned against its order's row and the reversals recorded before
 * it: a pending row with the items to cancel, or a skipped row with why.
 */
async function planReversal(
  tx: Tx,
  input: { shop: string; orderId: string; source: ReversalSource; skipReason: DeliveryReason | null; order: OrderRow; now: Date; excludeId?: string },
): Promise<PlannedReversal> {
  const { shop, orderId, source, order } = input;
  const skipped = (reasonCode: DeliveryReason): PlannedReversal => ({
    status: "skipped",
    reasonCode,
    requestBody: null,
    totalAmount: null,
    orderPayload: JSON.stringify(source),
  });
  if (input.skipReason) return skipped(input.skipReason);
  if (order.status === "failed" || order.status === "skipped" || !order.requestBody) return skipped("predecessor_not_delivered");
  const sent = sentOrderOf(order.requestBody, order.orderPayload);
  if (!sent) return skipped("sent_order_unreadable");

  const earlier = await tx.delivery.findMany({
    where: { shop, orderId, kind: { not: ORDER_KIND }, status: COUNTED, ...(input.excludeId ? { id: { not: input.excludeId } } : {}) },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { orderPayload: true },
  });
  const sources = earlier.map((row) => sourceOf(row.orderPayload)).filter((value): value is ReversalSource => value !== null);
  const items = planReversals(sent, [...sources, source]).at(-1)!;
  if (items.length === 0) {
    return skipped(source.reversal === "cancel" ? "already_reversed_by_refunds" : "refunded_items_not_credited");
  }
  return {
    status: "pending",
    reasonCode: null,
    totalAmount: reversedAmount(items, sent.currency),
    currency: sent.currency,
    requestBody: JSON.stringify({ order_id: sent.orderId, items }),
    orderPayload: JSON.stringify(source),
    nextAttemptAt: input.now,
  };
}

interface PlannedReversal {
  status: "pending" | "skipped";
  reasonCode: DeliveryReason | null;
  requestBody: string | null;
  totalAmount: string | null;
  currency?: string;
  orderPayload: string;
  nextAttemptAt?: Date;
}

/**
 * Plans the order's reversals that were set aside without being planned against it: refunds that
 * arrived before the order (`awaiting_order`) and, with `neverSent`, those skipped because
 * the order had not been delivered (used when the order itself is queued again). Each becomes a
 * pending reversal (sent after the order) or stays skipped with the reason of now. Cheap when
 * there is nothing to do (one indexed read), so it can run after every recorded order. Returns
 * how many rows were planned.
 */
export async function settleReversalsAwaitingOrder(shop: string, orderId: string, now = new Date(), options: { neverSent?: boolean } = {}): Promise<number> {
  const reasons: DeliveryReason[] = options.neverSent ? ["awaiting_order", "predecessor_not_delivered"] : ["awaiting_order"];
  const waitingWhere: Prisma.DeliveryWhereInput = { shop, orderId, kind: { not: ORDER_KIND }, status: "skipped", attempts: 0, reasonCode: { in: reasons } };
  if (!(await prisma.delivery.findFirst({ where: waitingWhere, select: { id: true } }))) return 0;
  const settled = await prisma.$transaction(async (tx) => {
    if (!(await lockOrder(tx, shop, orderId))) return 0;
    const order = await tx.delivery.findUniqueOrThrow({
      where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
      select: { id: true, status: true, requestBody: true, orderPayload: true, orderName: true, currency: true, customerId: true },
    });
    const waiting = await tx.delivery.findMany({
      where: waitingWhere,
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, kind: true, reasonCode: true, orderPayload: true },
    });
    let planned = 0;
    for (const row of waiting) {
      const source = sourceOf(row.orderPayload);
      // A cancellation skipped as never sent stays so: the order was cancelled, and is not sent again.
      if (!source || source.reversal === "cancel") continue;
      const data = await planReversal(tx, { shop, orderId, source, skipReason: null, order, now, excludeId: row.id });
      // Nothing changes for a row that would only be skipped again for the same reason.
      if (data.status === "skipped" && data.reasonCode === row.reasonCode) continue;
      const { count } = await tx.delivery.updateMany({
        where: { id: row.id, shop, status: "skipped", attempts: 0, reasonCode: row.reasonCode },
        data: {
          ...data,
          orderName: order.orderName,
          customerId: order.customerId,
          currency: data.currency ?? order.currency,
          runsAfterId: order.id,
        },
      });
      planned += count;
    }
    return planned;
  });
  if (settled > 0) logger.info("reversals planned against their order", { shop, orderId, settled });
  return settled;
}

/**
 * A failed reversal queued again at the merchant's request. It is planned again, under the
 * order's lock, against the order and the reversals recorded since it failed (a cancellation
 * that came later may already have taken back its items), so nothing is reversed twice. Null
 * when it is no longer a failed reversal (another click got there first).
 */
export async function requeueFailedReversal(
  shop: string,
  id: string,
  now = new Date(),
): Promise<{ status: "pending" | "skipped"; reasonCode: DeliveryReason | null } | null> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.delivery.findFirst({
      where: { id, shop, kind: { not: ORDER_KIND }, status: "failed" },
      select: { orderId: true, orderPayload: true },
    });
    const source = sourceOf(row?.orderPayload ?? null);
    if (!row || !source || !(await lockOrder(tx, shop, row.orderId))) return null;
    const order = await tx.delivery.findUniqueOrThrow({
      where: { shop_orderId_kind: { shop, orderId: row.orderId, kind: ORDER_KIND } },
      select: { id: true, status: true, requestBody: true, orderPayload: true },
    });
    const planned = await planReversal(tx, { shop, orderId: row.orderId, source, skipReason: null, order, now, excludeId: id });
    const { count } = await tx.delivery.updateMany({
      where: { id, shop, status: "failed" },
      data: { ...planned, reasonDetail: null, runsAfterId: order.id, nextAttemptAt: now, firstAttemptAt: null, leaseOwner: null, leaseUntil: null },
    });
    return count === 1 ? { status: planned.status, reasonCode: planned.reasonCode } : null;
  });
}

/**
 * Every refund still set aside for its order, settled against the order if it is recorded now.
 * The worker settles them when it delivers their order; this sweep (at start and hourly) covers
 * a process that stopped between the two, and costs one read when there is nothing to do.
 */
export async function settleAllReversalsAwaitingOrders(now = new Date()): Promise<number> {
  const waiting = await prisma.delivery.findMany({
    where: { kind: { not: ORDER_KIND }, status: "skipped", attempts: 0, reasonCode: "awaiting_order" },
    select: { shop: true, orderId: true },
    take: 1_000,
  });
  const orders = new Map(waiting.map((row) => [`${row.shop}\u0000${row.orderId}`, row]));
  let settled = 0;
  for (const { shop, orderId } of orders.values()) settled += await settleReversalsAwaitingOrder(shop, orderId, now);
  return settled;
}

/**
 * settleReversalsAwaitingOrder for orders just delivered, with one query to find the few that
 * have a refund waiting for them (the worker calls it once per pass, off the webhook path).
 */
export async function settleReversalsAwaitingOrders(orders: { shop: string; orderId: string }[], now = new Date()): Promise<number> {
  if (orders.length === 0) return 0;
  const waiting: { shop: string; orderId: string }[] = [];
  // Two parameters per order: batches keep the statement within SQLite's parameter limit.
  for (const batch of inBatches(orders, IN_LIST_BATCH / 2)) {
    waiting.push(
      ...(await prisma.delivery.findMany({
        where: {
          OR: batch.map(({ shop, orderId }) => ({ shop, orderId })),
          kind: { not: ORDER_KIND },
          status: "skipped",
          attempts: 0,
          reasonCode: "awaiting_order",
        },
        select: { shop: true, orderId: true },
      })),
    );
  }
  const unique = new Map(waiting.map((row) => [`${row.shop}\u0000${row.orderId}`, row]));
  let settled = 0;
  for (const { shop, orderId } of unique.values()) settled += await settleReversalsAwaitingOrder(shop, orderId, now);
  return settled;
}

/**
 * Plans an order's unsent reversals again after the order's own JSON changed (released from
 * waiting for keys or for payment, mapped with the settings and payload of that moment), so that
 * they cancel exactly the skus, quantities and prices the order will send. Reversals already
 * attempted are left alone: they can only exist once the order was delivered.
 */
export async function rebuildPendingReversals(shop: string, orderId: string): Promise<number> {
  return prisma.$transaction(async (tx) => {
    if (!(await lockOrder(tx, shop, orderId))) return 0;
    const order = await tx.delivery.findUniqueOrThrow({
      where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
      select: { requestBody: true, orderPayload: true },
    });
    const reversals = await tx.delivery.findMany({
      where: { shop, orderId, kind: { not: ORDER_KIND }, status: COUNTED },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, status: true, attempts: true, orderPayload: true },
    });
    const sent = sentOrderOf(order.requestBody, order.orderPayload);
    if (reversals.length === 0 || !sent) return 0;
    const planned = reversals.flatMap((row) => {
      const source = sourceOf(row.orderPayload);
      return source ? [{ row, source }] : [];
    });
    const plans = planReversals(
      sent,
      planned.map((entry) => entry.source),
    );
    let changed = 0;
    for (const [index, { row }] of planned.entries()) {
      if (row.attempts > 0 || !["pending", "waiting_for_keys"].includes(row.status)) continue;
      const items = plans[index];
      const data: Prisma.DeliveryUpdateManyMutationInput =
        items.length === 0
          ? { status: "skipped", reasonCode: "nothing_credited_any_more", reasonDetail: null, requestBody: null }
          : {
              requestBody: JSON.stringify({ order_id: sent.orderId, items }),
              totalAmount: reversedAmount(items, sent.currency),
              currency: sent.currency,
            };
      changed += (await tx.delivery.updateMany({ where: { id: row.id, shop, attempts: 0, status: row.status }, data })).count;
    }
    return changed;
  });
}
