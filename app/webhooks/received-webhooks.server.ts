import crypto from "node:crypto";
import { Prisma } from "@prisma/client";
import { configuredKeys, openValue, sealUtf8 } from "../database/sealed-values.server";
import prisma, { sqliteAppendStatement } from "../db.server";
import { logger } from "../logger.server";
import { actOnWebhook } from "./handle-webhook.server";
import { ORDER_WEBHOOK_EFFECTS, isOrderWebhookTopic } from "./order-webhooks.server";
import { isUnreadable, withBody, type UnreadableWebhook, type VerifiedWebhook } from "./receive-webhook.server";

/*
 * ReceivedWebhook: the order webhooks the fast path (fast-intake.server.ts) acknowledged, kept
 * until the background work has acted on them exactly as their route would have
 * (docs/decisions/0014-webhook-intake-fast-path.md).
 */

/** What the fast path appends: the verified headers' values and the body as received, unread. */
export interface ReceivedWebhookInput {
  webhookId: string;
  shop: string;
  /** The route's topic, as "orders/create". */
  topic: string;
  eventId: string | null;
  apiVersion: string;
  /**
   * The body's bytes as Shopify sent and signed them (valid UTF-8), read only when the webhook is
   * acted on; sealed before they are written.
   */
  body: Uint8Array;
}

/** Rows per group: large enough for a burst, small enough for PostgreSQL's one statement (6 parameters a row). */
export const MAX_APPENDS_PER_COMMIT = 64;

interface Waiting {
  row: ReceivedWebhookInput;
  resolve(): void;
  reject(error: unknown): void;
}

let waiting: Waiting[] = [];
let writing = false;

const RECEIVED_WEBHOOK_COLUMNS = `"webhookId", "shop", "topic", "eventId", "apiVersion", "payload"`;
/** On SQLite, one prepared statement on a connection of its own; opened on the first webhook. */
let sqliteAppend: ReturnType<typeof sqliteAppendStatement> | undefined;

type ReceivedRowValues = [string, string, string, string | null, string, Uint8Array];

/** For each row, whether it was written: false when its webhook id was already there. */
async function insertReceived(rows: ReceivedRowValues[]): Promise<boolean[]> {
  // Sealed here: on SQLite the writer thread's time is what bounds intake, this thread has CPU to spare.
  const key = configuredKeys().current;
  const sealed = rows.map(([webhookId, shop, topic, eventId, apiVersion, body]) => [webhookId, shop, topic, eventId, apiVersion, sealUtf8(body, key)]);
  sqliteAppend ??= sqliteAppendStatement(`INSERT INTO "ReceivedWebhook" (${RECEIVED_WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ("webhookId") DO NOTHING`);
  if (sqliteAppend) return sqliteAppend.appendAll(sealed);
  // PostgreSQL: one multi-row INSERT through the client's pool (several instances share it).
  const values = sealed.map((row) => Prisma.sql`(${Prisma.join(row)})`);
  const inserted = await prisma.$queryRaw<{ webhookId: string }[]>`INSERT INTO "ReceivedWebhook" (${Prisma.raw(RECEIVED_WEBHOOK_COLUMNS)}) VALUES ${Prisma.join(values)} ON CONFLICT ("webhookId") DO NOTHING RETURNING "webhookId"`;
  const ids = new Set(inserted.map((row) => row.webhookId));
  return rows.map(([webhookId]) => ids.delete(webhookId));
}

/**
 * One transaction for every webhook that arrived while the previous one was written (group
 * commit), below Prisma's models: Prisma compiles each query of its models anew, which cost more
 * than the rest of the fast path together. On SQLite `npm start` writes in a thread of its own
 * (app/database/append-thread.ts). A webhook id already here
 * (Shopify sent it again) is not kept twice.
 */
async function writeGroup(group: Waiting[]) {
  let written: boolean[];
  try {
    written = await insertReceived(group.map(({ row }): ReceivedRowValues => [row.webhookId, row.shop, row.topic, row.eventId, row.apiVersion, row.body]));
  } catch (error) {
    for (const item of group) item.reject(error);
    return;
  }
  group.forEach((item, index) => {
    // Each webhook id is kept once: a second copy (in this group, or still waiting from before) is answered as the first.
    if (!written[index]) {
      logger.info("webhook already received: acknowledged, kept once", { shop: item.row.shop, topic: item.row.topic, webhookId: item.row.webhookId });
    }
    item.resolve();
  });
}

async function drain() {
  while (waiting.length > 0) {
    const group = waiting.slice(0, MAX_APPENDS_PER_COMMIT);
    waiting = waiting.slice(group.length);
    const written = writeGroup(group);
    // The writer thread gathers the groups sent while it commits; elsewhere the next group forms meanwhile.
    if (!sqliteAppend?.gathersGroups) await written;
  }
  writing = false;
}

/** Resolves once the webhook is committed (or was already there): then it may be acknowledged. */
export function appendReceivedWebhook(row: ReceivedWebhookInput): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    waiting.push({ row, resolve, reject });
    // After the current turn of the event loop, so that requests read in the same turn join.
    if (!writing) {
      writing = true;
      setImmediate(() => void drain());
    }
  });
}

/** Orders acted on at once in a pass. */
const ORDERS_AT_ONCE = 8;
/** Rows acted on per pass. */
const ROWS_PER_PASS = 16;
/** The longest wait before a row whose handling failed is tried again. */
const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

const retryDelayMs = (attempts: number) => Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** Math.min(attempts, 20));

type ReceivedRow = {
  sequence: number;
  webhookId: string;
  shop: string;
  topic: string;
  eventId: string | null;
  apiVersion: string;
  payload: string;
  attempts: number;
};

/**
 * The row's webhook as the route would have received it: the signature and headers were checked
 * when it arrived, and its body is read now as the route reads it (withBody), unreadable included.
 */
function webhookOf(row: ReceivedRow): VerifiedWebhook | UnreadableWebhook {
  const verified = {
    shop: row.shop,
    topic: row.topic.toUpperCase().replace(/\//g, "_"),
    webhookId: row.webhookId,
    eventId: row.eventId,
    apiVersion: row.apiVersion,
  };
  return withBody(verified, openValue(row.payload, configuredKeys().all));
}

/** The order a row concerns: rows of one order are acted on one after another, in arrival order. An unreadable body names none. */
function orderKeyOf(row: ReceivedRow, webhook: VerifiedWebhook | UnreadableWebhook): string {
  if (isUnreadable(webhook)) return `${row.shop}\nwebhook ${row.webhookId}`;
  // Any JSON: a body that is not an order (null among them) is refused when it is acted on.
  const body = webhook.payload as { id?: unknown; order_id?: unknown } | null;
  const orderId = row.topic === "refunds/create" ? body?.order_id : body?.id;
  return `${row.shop}\n${String(orderId)}`;
}

/**
 * One pass of the background work: leases the due rows in arrival order, acts on each as its
 * route would have (receipts, known shop, the topic's effect), deletes those done, and keeps a
 * failed one with its reason for a later try. True when a full batch was taken (more may wait).
 */
export async function actOnReceivedWebhooks(options: { owner: string; leaseMs: number; now?: Date }): Promise<boolean> {
  const now = options.now ?? new Date();
  const free = { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] };
  const due = await prisma.receivedWebhook.findMany({
    where: { AND: [{ OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] }, free] },
    orderBy: { sequence: "asc" },
    take: ROWS_PER_PASS,
    select: { sequence: true },
  });
  if (due.length === 0) return false;
  const sequences = due.map((row) => row.sequence);
  await prisma.receivedWebhook.updateMany({
    where: { sequence: { in: sequences }, ...free },
    data: { leaseOwner: options.owner, leaseUntil: new Date(now.getTime() + options.leaseMs) },
  });
  const rows: ReceivedRow[] = await prisma.receivedWebhook.findMany({
    where: { sequence: { in: sequences }, leaseOwner: options.owner },
    orderBy: { sequence: "asc" },
    select: { sequence: true, webhookId: true, shop: true, topic: true, eventId: true, apiVersion: true, payload: true, attempts: true },
  });

  const done: number[] = [];
  const byOrder = new Map<string, { row: ReceivedRow; webhook: VerifiedWebhook | UnreadableWebhook }[]>();
  const failed: { row: ReceivedRow; error: unknown }[] = [];
  for (const row of rows) {
    try {
      const webhook = webhookOf(row);
      const key = orderKeyOf(row, webhook);
      byOrder.set(key, [...(byOrder.get(key) ?? []), { row, webhook }]);
    } catch (error) {
      failed.push({ row, error });
    }
  }
  // A few orders at a time (their inserts and settings reads share a commit and a query) without
  // crowding out the delivery worker's writes; one order's webhooks one after another, so that a
  // cancellation follows its order here too.
  const orders = [...byOrder.values()];
  const lanes = Array.from({ length: Math.min(ORDERS_AT_ONCE, orders.length) }, async () => {
    for (let items = orders.shift(); items; items = orders.shift()) {
      for (const { row, webhook } of items) {
        try {
          const topic = row.topic;
          if (!isOrderWebhookTopic(topic)) throw new Error(`No effect for topic ${topic}`);
          // Refusals (a body that does not fit) are logged by actOnWebhook; nothing to keep.
          await actOnWebhook(webhook, topic, ORDER_WEBHOOK_EFFECTS[topic]);
          done.push(row.sequence);
        } catch (error) {
          failed.push({ row, error });
        }
      }
    }
  });
  await Promise.all(lanes);

  if (done.length > 0) await prisma.receivedWebhook.deleteMany({ where: { sequence: { in: done }, leaseOwner: options.owner } });
  for (const { row, error } of failed) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error("acting on a received webhook failed; it is tried again later", {
      shop: row.shop,
      topic: row.topic,
      webhookId: row.webhookId,
      attempts: row.attempts + 1,
      error: reason,
    });
    await prisma.receivedWebhook.updateMany({
      where: { sequence: row.sequence, leaseOwner: options.owner },
      data: {
        attempts: { increment: 1 },
        lastError: reason.slice(0, 2_000),
        nextAttemptAt: new Date(now.getTime() + retryDelayMs(row.attempts)),
        leaseOwner: null,
        leaseUntil: null,
      },
    });
  }
  return rows.length === ROWS_PER_PASS;
}

/** This process's name on the rows it leases. */
export const RECEIVED_WEBHOOK_OWNER = `received-${crypto.randomUUID()}`;

/**
 * The shop's received order webhooks that could not be acted on yet (tried at least once; their
 * attempts and last error are on the row), for the home page. They are tried again up to hourly
 * until the retention period ends (app/privacy/retention.server.ts).
 */
export function countReceivedWebhooksFailing(shop: string): Promise<number> {
  return prisma.receivedWebhook.count({ where: { shop, attempts: { gt: 0 } } });
}
