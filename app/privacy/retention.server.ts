import { inBatches } from "../database/batches";
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

/**
 * Order webhooks acknowledged on the fast path hold the whole order, sealed (ReceivedWebhook).
 * A row is deleted as soon as it is acted on; one that could not be acted on by the end of the
 * retention period (it failed at every try) is deleted then, with its order: its personal data
 * is not kept longer than anything else's. Logged as an error with its webhook id and last error
 * (no personal data). Returns how many were deleted.
 */
export async function removeExpiredReceivedWebhooks(input: { now?: Date; retentionDays: number }): Promise<number> {
  const now = input.now ?? new Date();
  const cutoff = new Date(now.getTime() - input.retentionDays * DAY_MS);
  const expired = await prisma.receivedWebhook.findMany({
    where: { receivedAt: { lt: cutoff } },
    select: { sequence: true, shop: true, topic: true, webhookId: true, attempts: true, lastError: true },
  });
  if (expired.length === 0) return 0;
  for (const row of expired) {
    logger.error("received webhook never acted on: deleted at the end of the retention period", {
      shop: row.shop,
      topic: row.topic,
      webhookId: row.webhookId,
      attempts: row.attempts,
      lastError: row.lastError,
      retentionDays: input.retentionDays,
    });
  }
  let deleted = 0;
  for (const sequences of inBatches(expired.map((row) => row.sequence))) {
    deleted += (await prisma.receivedWebhook.deleteMany({ where: { sequence: { in: sequences }, receivedAt: { lt: cutoff } } })).count;
  }
  return deleted;
}
