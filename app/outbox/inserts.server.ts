import { Prisma, type PrismaClient } from "@prisma/client";
import { ORDER_KIND } from "./delivery-kind";
import { isUniqueViolation } from "../database/unique-violation";

/** What an insert came to: the new row's id, or null when the (shop, order, kind) row already existed. */
export type OutboxInsertResult = { id: string } | null;

export interface OutboxInserter {
  insert(data: Prisma.DeliveryUncheckedCreateInput): Promise<OutboxInsertResult>;
}

/** Large enough to absorb a flash-sale burst, small enough to keep one transaction short. */
export const MAX_INSERTS_PER_COMMIT = 64;

/**
 * Group commit for the outbox. Webhooks that arrive while the previous commit is being written
 * are inserted together, in one transaction: one commit (on SQLite, one fsync, which blocks the
 * whole process because libsql is synchronous) for many orders instead of one each. Each caller
 * still gets its answer only once its row is committed, so an acknowledged webhook is as durable
 * as before. A webhook arriving alone is written on its own, one turn of the event loop later.
 *
 * When a group fails, nothing of it was committed (Prisma runs a multi-row insert, split or not,
 * in one transaction). If one of its orders was already recorded or one row is invalid, each
 * insert is tried again on its own, so a duplicate or a bad row concerns only its caller; any
 * other error fails the whole group at once.
 */
export function createOutboxInserter(
  prisma: PrismaClient,
  options: {
    maxPerCommit?: number;
    onGroupCommitted?: (size: number) => void;
    onGroupFailed?: (size: number, error: unknown) => void;
  } = {},
): OutboxInserter {
  const maxPerCommit = options.maxPerCommit ?? MAX_INSERTS_PER_COMMIT;
  interface Waiting {
    data: Prisma.DeliveryUncheckedCreateInput;
    resolve(result: OutboxInsertResult): void;
    reject(error: unknown): void;
  }
  let waiting: Waiting[] = [];
  let writing = false;

  async function insertOne(item: Waiting) {
    try {
      item.resolve(await prisma.delivery.create({ data: item.data, select: { id: true } }));
    } catch (error) {
      if (isUniqueViolation(error)) item.resolve(null);
      else item.reject(error);
    }
  }

  async function writeGroup(group: Waiting[]) {
    if (group.length === 1) return insertOne(group[0]);
    let rows: { id: string; shop: string; orderId: string; kind: string }[];
    try {
      // One INSERT of every row: Prisma compiles one query for the group, not one per order.
      rows = await prisma.delivery.createManyAndReturn({
        data: group.map((item) => item.data),
        select: { id: true, shop: true, orderId: true, kind: true },
      });
    } catch (error) {
      // A duplicate, or a row Prisma refuses, concerns single orders: find them one by one. Any
      // other error (the database unavailable or locked past its budget) would fail each row
      // again, one after another, while every new webhook waits: answer the group at once
      // instead (Shopify sends those webhooks again).
      if (isUniqueViolation(error) || error instanceof Prisma.PrismaClientValidationError) {
        for (const item of group) await insertOne(item);
      } else {
        options.onGroupFailed?.(group.length, error);
        for (const item of group) item.reject(error);
      }
      return;
    }
    // Matched by key, not by position: the database does not promise RETURNING's order.
    const key = (shop: string, orderId: string, kind: string) => `${shop}\n${orderId}\n${kind}`;
    const idByKey = new Map(rows.map((row) => [key(row.shop, row.orderId, row.kind), row.id]));
    for (const item of group) {
      const id = idByKey.get(key(item.data.shop, item.data.orderId, item.data.kind ?? ORDER_KIND));
      if (id) item.resolve({ id });
      else item.reject(new Error(`The outbox insert of order ${item.data.orderId} returned no row`));
    }
    try {
      options.onGroupCommitted?.(group.length);
    } catch {
      // Reporting only: the rows are committed and their callers answered.
    }
  }

  async function drain() {
    while (waiting.length > 0) {
      const group = waiting.slice(0, maxPerCommit);
      waiting = waiting.slice(group.length);
      try {
        await writeGroup(group);
      } catch (error) {
        // Not expected (writeGroup settles every caller itself), but no caller may wait forever.
        for (const item of group) item.reject(error);
      }
    }
    writing = false;
  }

  return {
    insert(data) {
      return new Promise<OutboxInsertResult>((resolve, reject) => {
        waiting.push({ data, resolve, reject });
        // The first insert starts the writer after the current turn of the event loop, so that
        // requests read in the same turn join it (libsql's synchronous calls never yield to I/O
        // while a group is written); those arriving while it writes join the next group.
        if (!writing) {
          writing = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}
