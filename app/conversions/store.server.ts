import type { Conversion } from "@prisma/client";
import prisma from "../db.server";
import { inBatches } from "../database/batches";
import { isUniqueViolation } from "../database/unique-violation";
import { replacesStored, type ConversionFacts } from "./outcome";
import type { ConversionReport } from "./payload";

/** What recording a report did: a new conversion, a later status, or nothing (a repeat or an older report). */
export type RecordOutcome = "recorded" | "updated" | "unchanged";

/** Attempts at a conditional update before giving up: other writers of the same conversion are rare. */
const UPDATE_ATTEMPTS = 5;

/**
 * Stores a verified report, idempotently, keyed by (shop, Refersion's conversion id). A report
 * replaces the stored one only if it is later (replacesStored), and only if the row still holds
 * what was compared: two reports of one conversion arriving at once cannot both win.
 */
export async function recordConversion(shop: string, report: ConversionReport, now = new Date()): Promise<RecordOutcome> {
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
    const stored = await prisma.conversion.findUnique({ where: { shop_conversionId: { shop, conversionId: report.conversionId } } });
    if (!stored) {
      try {
        await prisma.conversion.create({ data: { shop, ...report, receivedAt: now } });
        return "recorded";
      } catch (error) {
        if (isUniqueViolation(error)) continue; // recorded meanwhile: compare with it
        throw error;
      }
    }
    if (!replacesStored(stored, report)) return "unchanged";
    const { count } = await prisma.conversion.updateMany({
      where: { id: stored.id, status: stored.status, refersionUpdatedAt: stored.refersionUpdatedAt, refersionCreatedAt: stored.refersionCreatedAt },
      data: { ...report, receivedAt: now },
    });
    if (count === 1) return "updated";
  }
  throw new Error(`Conversion ${report.conversionId} kept changing while it was being recorded`);
}

function factsOf(row: Conversion): ConversionFacts {
  return {
    conversionId: row.conversionId,
    status: row.status,
    deniedReason: row.deniedReason,
    affiliateId: row.affiliateId,
    affiliateCode: row.affiliateCode,
    affiliateName: row.affiliateName,
    commission: row.commission,
    total: row.total,
    currency: row.currency,
    test: row.test,
    refersionCreatedAt: row.refersionCreatedAt,
    refersionUpdatedAt: row.refersionUpdatedAt,
    receivedAt: row.receivedAt,
  };
}

/** The shop's conversions of these orders, by order id (orders without one are absent). */
export async function conversionsOfOrders(shop: string, orderIds: readonly string[]): Promise<Map<string, ConversionFacts[]>> {
  const byOrder = new Map<string, ConversionFacts[]>();
  for (const batch of inBatches([...new Set(orderIds)])) {
    const rows = await prisma.conversion.findMany({ where: { shop, orderId: { in: batch } } });
    for (const row of rows) {
      const list = byOrder.get(row.orderId!) ?? [];
      list.push(factsOf(row));
      byOrder.set(row.orderId!, list);
    }
  }
  return byOrder;
}
