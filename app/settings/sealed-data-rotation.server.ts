import prisma from "../db.server";
import { jsonColumnNeedsSealing, openJsonColumn, sealJsonColumn } from "../database/sealed-columns.server";
import { configuredKeys, needsSealing, openValue, sealValue, type SealingKeys } from "../database/sealed-values.server";
import { keyIdOf } from "../database/secret-box.server";
import { logger } from "../logger.server";

export interface SealedDataReport {
  /** The id of the key every value is now sealed with. */
  keyId: string;
  /** Outbox rows whose personal data was sealed again (plain before, or under another key). */
  deliveriesResealed: number;
  /** Sessions whose tokens were sealed again. */
  sessionsResealed: number;
  /** Order webhooks waiting to be acted on (ReceivedWebhook) whose body was sealed again. */
  receivedWebhooksResealed: number;
  /** Rows whose values no configured key opens; left as they were. */
  failed: { table: "Delivery" | "Session" | "ReceivedWebhook"; id: string; shop: string; reason: string }[];
}

const BATCH = 200;

type RawDelivery = { id: string; shop: string; orderPayload: string | null; requestBody: string | null; sourceExcerpt: string | null };

/**
 * Seals under the current APP_ENCRYPTION_KEY every outbox row's personal data, every
 * session's tokens and every waiting order webhook's body (ReceivedWebhook) that are in plain text (written before sealing existed) or sealed under
 * another key (the previous one, during a rotation). Run by `npm run -s shop --
 * rotate-encryption-key` after the Refersion secrets. A row is written only if it still holds
 * what was read (the worker or a webhook changing it meanwhile wins: it writes sealed values
 * anyway); safe to run again.
 */
export async function resealStoredData(input: { keys?: SealingKeys } = {}): Promise<SealedDataReport> {
  const keys = input.keys ?? configuredKeys();
  const report: SealedDataReport = { keyId: keyIdOf(keys.current), deliveriesResealed: 0, sessionsResealed: 0, receivedWebhooksResealed: 0, failed: [] };
  const failed = (table: SealedDataReport["failed"][number]["table"], row: { id: string; shop: string }, error: unknown) =>
    report.failed.push({ table, id: row.id, shop: row.shop, reason: error instanceof Error ? error.message : String(error) });

  // Read raw (the app's client opens these columns on read): which key sealed a value is in the raw text.
  let after = "";
  for (;;) {
    const rows = await prisma.$queryRaw<RawDelivery[]>`
      SELECT "id", "shop", "orderPayload", "requestBody", "sourceExcerpt" FROM "Delivery"
      WHERE "id" > ${after} ORDER BY "id" LIMIT ${BATCH}`;
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    for (const row of rows) {
      const stale =
        jsonColumnNeedsSealing(row.orderPayload, keys.current) ||
        jsonColumnNeedsSealing(row.requestBody, keys.current) ||
        needsSealing(row.sourceExcerpt, keys.current);
      if (!stale) continue;
      let sealed: { orderPayload: string | null; requestBody: string | null; sourceExcerpt: string | null };
      try {
        const resealJson = (text: string | null) => (text === null ? null : sealJsonColumn(openJsonColumn(text, keys.all), keys.current));
        sealed = {
          orderPayload: resealJson(row.orderPayload),
          requestBody: resealJson(row.requestBody),
          sourceExcerpt: row.sourceExcerpt === null ? null : sealValue(openValue(row.sourceExcerpt, keys.all), keys.current),
        };
      } catch (error) {
        failed("Delivery", row, error);
        continue;
      }
      // Sealed here with the given key (the client leaves sealed values as they are).
      const { count } = await prisma.delivery.updateMany({
        where: { id: row.id, orderPayload: row.orderPayload, requestBody: row.requestBody, sourceExcerpt: row.sourceExcerpt },
        data: sealed,
      });
      report.deliveriesResealed += count;
    }
  }

  const sessions = await prisma.session.findMany({ select: { id: true, shop: true, accessToken: true, refreshToken: true }, orderBy: { id: "asc" } });
  for (const session of sessions) {
    if (!needsSealing(session.accessToken, keys.current) && !needsSealing(session.refreshToken, keys.current)) continue;
    let accessToken: string;
    let refreshToken: string | null;
    try {
      accessToken = sealValue(openValue(session.accessToken, keys.all), keys.current);
      refreshToken = session.refreshToken === null ? null : sealValue(openValue(session.refreshToken, keys.all), keys.current);
    } catch (error) {
      failed("Session", session, error);
      continue;
    }
    const { count } = await prisma.session.updateMany({
      where: { id: session.id, accessToken: session.accessToken, refreshToken: session.refreshToken },
      data: { accessToken, refreshToken },
    });
    report.sessionsResealed += count;
  }

  // Order webhooks acknowledged on the fast path and not acted on yet (decision 0014), sealed
  // whole: one left under the previous key could never be acted on once that key is removed.
  for (let afterSequence = 0; ; ) {
    const rows = await prisma.receivedWebhook.findMany({
      where: { sequence: { gt: afterSequence } },
      orderBy: { sequence: "asc" },
      take: BATCH,
      select: { sequence: true, shop: true, payload: true },
    });
    if (rows.length === 0) break;
    afterSequence = rows[rows.length - 1].sequence;
    for (const row of rows) {
      if (!needsSealing(row.payload, keys.current)) continue;
      let payload: string;
      try {
        payload = sealValue(openValue(row.payload, keys.all), keys.current);
      } catch (error) {
        failed("ReceivedWebhook", { id: String(row.sequence), shop: row.shop }, error);
        continue;
      }
      // Only if it still holds what was read (it may have been acted on and deleted meanwhile).
      const { count } = await prisma.receivedWebhook.updateMany({ where: { sequence: row.sequence, payload: row.payload }, data: { payload } });
      report.receivedWebhooksResealed += count;
    }
  }

  logger.info("stored data sealed again", {
    keyId: report.keyId,
    deliveriesResealed: report.deliveriesResealed,
    sessionsResealed: report.sessionsResealed,
    receivedWebhooksResealed: report.receivedWebhooksResealed,
    failed: report.failed.length,
  });
  for (const failure of report.failed) {
    logger.error("stored data could not be sealed again", { table: failure.table, id: failure.id, shop: failure.shop, reason: failure.reason });
  }
  return report;
}
