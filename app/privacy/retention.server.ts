import prisma from "../db.server";
import { logger } from "../logger.server";
import { removePersonalDataFromDeliveries } from "./compliance.server";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Stored orders lose the buyer's personal data once they are older than the retention period;
 * the delivery log keeps amounts, items, ids and every attempt. Returns how many were changed.
 */
export async function removeExpiredPersonalData(input: { now?: Date; retentionDays: number; batchSize?: number }): Promise<number> {
  const now = input.now ?? new Date();
  const cutoff = new Date(now.getTime() - input.retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const rows = await prisma.delivery.findMany({
      where: { personalDataRemovedAt: null, createdAt: { lt: cutoff }, status: { notIn: ["pending", "retrying"] } },
      select: { id: true, shop: true },
      take: input.batchSize ?? 200,
    });
    if (rows.length === 0) break;
    for (const row of rows) total += await removePersonalDataFromDeliveries(row.shop, [row.id], now);
  }
  if (total > 0) logger.info("personal data removed after the retention period", { deliveries: total, retentionDays: input.retentionDays });
  return total;
}
