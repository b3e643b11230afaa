import DataLoader from "dataloader";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { isUniqueViolation } from "../database/unique-violation";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long a processed webhook's ids are kept. Shopify retries a delivery for 4 hours (and a
 * resend from the Partner dashboard is a new webhook id): a week covers both with a wide margin.
 */
export const WEBHOOK_RECEIPT_RETENTION_DAYS = 7;

interface WebhookIds {
  topic: string;
  webhookId: string | null;
  eventId: string | null;
}

/** X-Shopify-Event-Id names the event, the same for each topic it is sent as: keyed with the topic. */
function keysOf(webhook: WebhookIds): string[] {
  return [
    ...(webhook.webhookId ? [`webhook:${webhook.webhookId}`] : []),
    // Topics as Shopify spells them in the header ("ORDERS_CREATE") or in a route ("orders/create").
    ...(webhook.eventId ? [`event:${webhook.topic.toLowerCase().replace(/_/g, "/")}:${webhook.eventId}`] : []),
  ];
}

/**
 * The receipts looked up and written for webhooks handled together (the background work acts on
 * several at once) share one query per turn of the event loop. Nothing is cached.
 */
const BATCHING = { cache: false, batchScheduleFn: (callback: () => void) => setImmediate(callback), maxBatchSize: 500 } as const;

const receiptExists = new DataLoader<string, boolean>(async (keys) => {
  const found = await prisma.webhookReceipt.findMany({ where: { key: { in: [...new Set(keys)] } }, select: { key: true } });
  const present = new Set(found.map((receipt) => receipt.key));
  return keys.map((key) => present.has(key));
}, BATCHING);

async function createReceipt(data: { key: string; topic: string }) {
  try {
    await prisma.webhookReceipt.create({ data });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}

const receiptWriter = new DataLoader<{ key: string; topic: string }, true>(async (receipts) => {
  const unique = [...new Map(receipts.map((receipt) => [receipt.key, receipt])).values()];
  try {
    await prisma.webhookReceipt.createMany({ data: unique });
  } catch (error) {
    // One of them recorded meanwhile (two copies processed at once): each on its own.
    if (!isUniqueViolation(error)) throw error;
    for (const receipt of unique) await createReceipt(receipt);
  }
  return receipts.map(() => true as const);
}, BATCHING);

/** Whether a webhook with the same webhook id, or the same event for this topic, was processed. */
export async function alreadyProcessed(webhook: WebhookIds): Promise<boolean> {
  const keys = keysOf(webhook);
  if (keys.length === 0) return false;
  return (await Promise.all(keys.map((key) => receiptExists.load(key)))).some(Boolean);
}

/**
 * Recorded once the webhook's effect is done, so a delivery that failed half-way is processed
 * again when Shopify retries it. Two copies processed at the same moment both get here: each
 * effect is idempotent on its own rows, and the second receipt is not an error.
 */
export async function recordProcessed(webhook: WebhookIds): Promise<void> {
  const topic = webhook.topic.toLowerCase();
  await Promise.all(keysOf(webhook).map((key) => receiptWriter.load({ key, topic })));
}

/** The hourly maintenance's sweep: receipts older than the retention period. */
export async function removeExpiredWebhookReceipts(now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - WEBHOOK_RECEIPT_RETENTION_DAYS * DAY_MS);
  const { count } = await prisma.webhookReceipt.deleteMany({ where: { receivedAt: { lt: cutoff } } });
  if (count > 0) logger.info("webhook receipts removed after the retention period", { receipts: count });
  return count;
}
