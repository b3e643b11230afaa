import { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { inBatches } from "../database/batches";
import { ORDER_KIND } from "../outbox/delivery-kind";
import { HOUR_MS, orderOutcome, type ConversionFacts, type OrderOutcome, type ReceiverFacts } from "./outcome";
import { findConversionReceiver } from "./receiver.server";
import { conversionsOfOrders } from "./store.server";

/** The receiver's facts for outcomes; null when the shop never opened the settings' section. */
export async function receiverFacts(shop: string): Promise<ReceiverFacts | null> {
  const receiver = await findConversionReceiver(shop);
  return receiver && receiver.secretCiphertext ? { connectedAt: receiver.connectedAt, graceHours: receiver.graceHours } : null;
}

/** Each order's outcome (orders of the shop, by Shopify order id), joined by (shop, orderId) now. */
export async function outcomesOfOrders(shop: string, orderIds: readonly string[], now: Date): Promise<Map<string, OrderOutcome>> {
  const unique = [...new Set(orderIds)];
  const orders = new Map<string, { status: string; deliveredAt: Date | null }>();
  for (const batch of inBatches(unique)) {
    const rows = await prisma.delivery.findMany({
      where: { shop, kind: ORDER_KIND, orderId: { in: batch } },
      select: { orderId: true, status: true, deliveredAt: true },
    });
    for (const row of rows) orders.set(row.orderId, row);
  }
  const [conversions, receiver] = await Promise.all([conversionsOfOrders(shop, unique), receiverFacts(shop)]);
  return new Map(
    unique.map((orderId) => [orderId, orderOutcome({ order: orders.get(orderId) ?? null, conversions: conversions.get(orderId) ?? [], receiver, now })]),
  );
}

export interface ForwardedOrder {
  orderId: string;
  deliveredAt: Date;
  outcome: OrderOutcome;
}

/** The shop's orders delivered to Refersion since `since`, each with its outcome and conversions. */
export async function forwardedOrdersSince(
  shop: string,
  since: Date,
  now: Date,
): Promise<{ receiver: ReceiverFacts | null; orders: ForwardedOrder[]; conversions: Map<string, ConversionFacts[]> }> {
  const rows = await prisma.delivery.findMany({
    // No upper bound: a row delivered by another instance whose clock runs ahead still counts.
    where: { shop, kind: ORDER_KIND, status: "delivered", deliveredAt: { gte: since } },
    select: { orderId: true, status: true, deliveredAt: true },
  });
  const [conversions, receiver] = await Promise.all([conversionsOfOrders(shop, rows.map((row) => row.orderId)), receiverFacts(shop)]);
  return {
    receiver,
    conversions,
    orders: rows.map((row) => ({
      orderId: row.orderId,
      deliveredAt: row.deliveredAt!,
      outcome: orderOutcome({ order: row, conversions: conversions.get(row.orderId) ?? [], receiver, now }),
    })),
  };
}

export const AFFILIATE_FILTERS = ["credited", "not_credited", "denied"] as const;
export type AffiliateFilter = (typeof AFFILIATE_FILTERS)[number];

const CREDITED = Prisma.sql`EXISTS (SELECT 1 FROM "Conversion" c WHERE c."shop" = d."shop" AND c."orderId" = d."orderId" AND c."status" IN ('pending', 'approved'))`;
const DENIED = Prisma.sql`EXISTS (SELECT 1 FROM "Conversion" c WHERE c."shop" = d."shop" AND c."orderId" = d."orderId" AND c."status" = 'denied')`;
const ANY = Prisma.sql`EXISTS (SELECT 1 FROM "Conversion" c WHERE c."shop" = d."shop" AND c."orderId" = d."orderId")`;

/**
 * The condition of each filter of the delivery log's Affiliate column, on the shop's orders, each
 * matching exactly the orders whose outcome (orderOutcome) is: credited (a pending or approved
 * conversion), denied (only denied ones), not credited ("no affiliate click": delivered after
 * conversion webhooks were connected, the grace period over, and Refersion reported no
 * conversion; nothing while they are not connected). A join in the database, since a shop's
 * conversions can far outnumber what an IN list may hold.
 */
function conditionOf(filter: AffiliateFilter, receiver: ReceiverFacts | null, now: Date): Prisma.Sql {
  if (filter === "credited") return CREDITED;
  if (filter === "denied") return Prisma.sql`${DENIED} AND NOT ${CREDITED}`;
  if (!receiver?.connectedAt) return Prisma.sql`1 = 0`;
  const graceOverBefore = new Date(now.getTime() - receiver.graceHours * HOUR_MS);
  return Prisma.sql`d."status" = 'delivered' AND d."deliveredAt" >= ${receiver.connectedAt} AND d."deliveredAt" <= ${graceOverBefore} AND NOT ${ANY}`;
}

/** One page of the ids of the shop's orders matching `filter` at `now`, newest first, and how many match. */
export async function orderIdsMatching(
  shop: string,
  filter: AffiliateFilter,
  page: { skip: number; take: number },
  now = new Date(),
): Promise<{ ids: string[]; total: number }> {
  const receiver = filter === "not_credited" ? await receiverFacts(shop) : null;
  const where = Prisma.sql`d."shop" = ${shop} AND d."kind" = ${ORDER_KIND} AND ${conditionOf(filter, receiver, now)}`;
  const [counted] = await prisma.$queryRaw<{ total: bigint | number }[]>`SELECT COUNT(*) AS "total" FROM "Delivery" d WHERE ${where}`;
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT d."id" AS "id" FROM "Delivery" d WHERE ${where} ORDER BY d."createdAt" DESC, d."id" DESC LIMIT ${page.take} OFFSET ${page.skip}`;
  return { ids: rows.map((row) => row.id), total: Number(counted?.total ?? 0) };
}

/** The shop's outbox rows of these ids, in the order given, without the stored bodies (the log shows none). */
export async function deliveryRowsByIds(shop: string, ids: readonly string[]) {
  const rows = await prisma.delivery.findMany({
    where: { shop, id: { in: [...ids] } },
    omit: { orderPayload: true, requestBody: true, sourceExcerpt: true },
    include: { runsAfter: { select: { status: true } } },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
