import type { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { ORDER_KIND } from "./delivery-kind";
import { DELIVERY_STATUSES, type DeliveryStatus } from "./delivery-status";

/**
 * Read access to one shop's outbox for the admin: the delivery log, one delivery with its
 * attempts, and the figures of the home page. Every query is scoped by shop; an id of another
 * shop finds nothing.
 */

export interface DeliveryLogQuery {
  status: DeliveryStatus | null;
  page: number;
  pageSize: number;
  /** Part of an order number ("1001" finds #1001), or an order id. */
  orderNumber?: string;
  /** Only rows received since then. */
  since?: Date;
}

const LIST_SELECT = {
  id: true,
  orderId: true,
  orderName: true,
  kind: true,
  totalAmount: true,
  currency: true,
  status: true,
  attempts: true,
  lastStatusCode: true,
  createdAt: true,
  lastAttemptAt: true,
  // The log's "Attribution" (app/admin/attribution-labels.ts): the source, or the wait for click data.
  attributionSource: true,
  reasonCode: true,
  // The log's "Reason" (app/admin/delivery-reasons.ts, explainDelivery).
  reasonDetail: true,
  firstAttemptAt: true,
  nextAttemptAt: true,
  runsAfter: { select: { status: true } },
} satisfies Prisma.DeliverySelect;

export type DeliveryListRow = Prisma.DeliveryGetPayload<{ select: typeof LIST_SELECT }>;

export interface DeliveryLogPage {
  rows: DeliveryListRow[];
  /** Rows matching the filter. */
  total: number;
  page: number;
  pageCount: number;
  countsByStatus: Record<DeliveryStatus, number>;
}

function emptyCounts(): Record<DeliveryStatus, number> {
  return Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
}

async function countByStatus(where: Prisma.DeliveryWhereInput): Promise<Record<DeliveryStatus, number>> {
  const groups = await prisma.delivery.groupBy({ by: ["status"], where, _count: { _all: true } });
  const counts = emptyCounts();
  for (const group of groups) {
    if ((DELIVERY_STATUSES as readonly string[]).includes(group.status)) counts[group.status as DeliveryStatus] = group._count._all;
  }
  return counts;
}

/**
 * One page of a shop's deliveries, newest first, optionally of one status, matching an order
 * number, received since a time. The counts by status follow the other filters.
 */
export async function listDeliveries(shop: string, query: DeliveryLogQuery): Promise<DeliveryLogPage> {
  const filtered: Prisma.DeliveryWhereInput = {
    shop,
    ...(query.orderNumber ? { OR: [{ orderName: { contains: query.orderNumber } }, { orderId: query.orderNumber }] } : {}),
    ...(query.since ? { createdAt: { gte: query.since } } : {}),
  };
  const countsByStatus = await countByStatus(filtered);
  const total = query.status ? countsByStatus[query.status] : Object.values(countsByStatus).reduce((a, b) => a + b, 0);
  const pageCount = Math.max(1, Math.ceil(total / query.pageSize));
  const page = Math.min(Math.max(1, query.page), pageCount);
  const rows = await prisma.delivery.findMany({
    where: { ...filtered, ...(query.status ? { status: query.status } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    skip: (page - 1) * query.pageSize,
    take: query.pageSize,
    select: LIST_SELECT,
  });
  return { rows, total, page, pageCount, countsByStatus };
}

const DETAIL_SELECT = {
  ...LIST_SELECT,
  requestBody: true,
  sourceExcerpt: true,
  nextAttemptAt: true,
  deliveredAt: true,
  deliveryAttempts: {
    orderBy: { startedAt: "desc" },
    select: { id: true, startedAt: true, durationMs: true, statusCode: true, outcome: true, error: true, responseExcerpt: true },
  },
} satisfies Prisma.DeliverySelect;

export type DeliveryDetail = Prisma.DeliveryGetPayload<{ select: typeof DETAIL_SELECT }>;

/** A delivery with every attempt, or null when the shop has no delivery with that id. */
export async function getDelivery(shop: string, id: string): Promise<DeliveryDetail | null> {
  return prisma.delivery.findFirst({ where: { id, shop }, select: DETAIL_SELECT });
}

export interface OrderOutcome {
  status: "delivered" | "failed";
  /** When the customer placed it (when the app recorded it, for rows from before that was kept). */
  placedAt: Date;
  totalAmount: string | null;
  currency: string | null;
}

export interface OrderActivity {
  countsByStatus: Record<DeliveryStatus, number>;
  /** The delivered and failed ones, for the chart and the value forwarded. */
  outcomes: OrderOutcome[];
}

/**
 * The shop's orders placed between `since` and `until`, by the day the customer placed them: a
 * past order resent today counts on its own day, not today. Orders only: a cancellation or refund
 * row is a second delivery for an order already counted.
 */
export async function orderActivity(shop: string, since: Date, until: Date): Promise<OrderActivity> {
  const window: Prisma.DeliveryWhereInput = {
    shop,
    kind: ORDER_KIND,
    OR: [{ orderPlacedAt: { gte: since, lte: until } }, { orderPlacedAt: null, createdAt: { gte: since, lte: until } }],
  };
  const countsByStatus = await countByStatus(window);
  const rows = await prisma.delivery.findMany({
    where: { ...window, status: { in: ["delivered", "failed"] } },
    select: { status: true, orderPlacedAt: true, createdAt: true, totalAmount: true, currency: true },
  });
  return {
    countsByStatus,
    outcomes: rows.map((row) => ({
      status: row.status === "delivered" ? "delivered" : "failed",
      placedAt: row.orderPlacedAt ?? row.createdAt,
      totalAmount: row.totalAmount,
      currency: row.currency,
    })),
  };
}

/** Every row of the shop by status, whatever its kind or age: what needs the merchant now. */
export async function shopCountsByStatus(shop: string): Promise<Record<DeliveryStatus, number>> {
  return countByStatus({ shop });
}

/** Ids of the shop's failed rows, oldest first, at most `limit` ("Retry all failed"). */
export async function failedDeliveryIds(shop: string, limit: number): Promise<string[]> {
  const rows = await prisma.delivery.findMany({
    where: { shop, status: "failed" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: limit,
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** Whether any order of the shop has reached Refersion (the order itself, not a reversal). */
export async function hasDeliveredOrder(shop: string): Promise<boolean> {
  const row = await prisma.delivery.findFirst({ where: { shop, kind: ORDER_KIND, status: "delivered" }, select: { id: true } });
  return row !== null;
}
