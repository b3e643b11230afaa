import { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { CANCEL_KIND, ORDER_KIND, type DeliveryKind } from "../forwarding/delivery-kind";
import { planReversals, reversedAmount, sentOrderOf, type ReversalSource } from "./reversal-mapping";

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
const COUNTED = { notIn: ["skipped", "failed"] };

export type ReversalOutcome =
  /** A reversal row is due; the worker sends it once its order was delivered. */
  | "queued"
  /** Recorded as skipped, with the reason. */
  | "skipped"
  /** This reversal was recorded before (Shopify sent the webhook again). */
  | "duplicate"
  /** The app never recorded the order: nothing was sent, nothing is recorded. */
  | "no_order"
  /** The order had not been sent yet and never will be: the order itself was skipped. */
  | "order_skipped";

export interface ReversalResult {
  outcome: ReversalOutcome;
  deliveryId: string | null;
}

export const NEVER_SENT_REASON = "The order was never delivered to Refersion, so there is nothing to reverse";

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
 * refund that returned no money). Nothing is recorded for an order the app never recorded: a
 * cancellation or refund of an order from before the app was installed is not the app's to
 * reverse, and would only fill the delivery log.
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
  skipReason?: string | null;
  now?: Date;
}): Promise<ReversalResult> {
  const { shop, orderId, kind, source, webhookId } = input;
  const now = input.now ?? new Date();
  const log = logger.child({ shop, orderId, kind, webhookId });
  let result: ReversalResult;
  try {
    result = await prisma.$transaction(async (tx): Promise<ReversalResult> => {
      if (!(await lockOrder(tx, shop, orderId))) return { outcome: "no_order", deliveryId: null };
      const existing = await tx.delivery.findUnique({ where: { shop_orderId_kind: { shop, orderId, kind } }, select: { id: true } });
      if (existing) return { outcome: "duplicate", deliveryId: null };
      const order = await tx.delivery.findUniqueOrThrow({
        where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
        select: { status: true, requestBody: true, orderPayload: true, orderName: true, currency: true, customerId: true },
      });

      if (kind === CANCEL_KIND) {
        const unsent =
          order.status === "waiting_for_payment"
            ? "The order was cancelled in Shopify before it was paid"
            : order.status === "waiting_for_keys" && !input.skipReason
              ? "The order was cancelled in Shopify before it could be sent"
              : null;
        if (unsent) {
          await tx.delivery.updateMany({
            where: { shop, orderId, kind: ORDER_KIND, status: order.status },
            data: { status: "skipped", reason: unsent },
          });
          return { outcome: "order_skipped", deliveryId: null };
        }
      }

      const common = { shop, orderId, kind, orderName: order.orderName, currency: order.currency, customerId: order.customerId, webhookId };
      const skipped = async (reason: string) => {
        const row = await tx.delivery.create({
          data: { ...common, status: "skipped", reason, orderPayload: JSON.stringify(source) },
          select: { id: true },
        });
        return { outcome: "skipped" as const, deliveryId: row.id };
      };

      if (input.skipReason) return skipped(input.skipReason);
      if (order.status === "failed" || order.status === "skipped" || !order.requestBody) return skipped(NEVER_SENT_REASON);
      const sent = sentOrderOf(order.requestBody, order.orderPayload);
      if (!sent) return skipped("The JSON sent for the order could not be read back, so the reversal cannot be matched to it");

      const earlier = await tx.delivery.findMany({
        where: { shop, orderId, kind: { not: ORDER_KIND }, status: COUNTED },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        select: { orderPayload: true },
      });
      const sources = earlier.map((row) => sourceOf(row.orderPayload)).filter((value): value is ReversalSource => value !== null);
      const items = planReversals(sent, [...sources, source]).at(-1)!;
      if (items.length === 0) {
        return skipped(
          source.reversal === "cancel"
            ? "Every item of the order was already reversed by its refunds"
            : "None of the refunded items is still credited in Refersion (already reversed, or never sent: gift cards, tips, items added after the order was sent)",
        );
      }
      const row = await tx.delivery.create({
        data: {
          ...common,
          status: "pending",
          totalAmount: reversedAmount(items, sent.currency),
          currency: sent.currency,
          requestBody: JSON.stringify({ order_id: sent.orderId, items }),
          orderPayload: JSON.stringify(source),
          nextAttemptAt: now,
        },
        select: { id: true },
      });
      return { outcome: "queued", deliveryId: row.id };
    });
  } catch (error) {
    // Two deliveries of the same webhook at once: the second finds the first's row.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return { outcome: "duplicate", deliveryId: null };
    throw error;
  }
  log.info("reversal recorded", { outcome: result.outcome, deliveryId: result.deliveryId });
  return result;
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
      const data =
        items.length === 0
          ? { status: "skipped", reason: "Nothing of it is credited in Refersion any more", requestBody: null }
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
