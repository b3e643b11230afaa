import prisma from "../db.server";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { createBackfillRunner, type BackfillRunner, type BackfillRunnerDeps } from "../backfill/backfill.server";
import { releaseOrdersParkedForUnreadableSecret } from "../orders/release.server";
import { createDeliveryWorker, type DeliveryWorker } from "../outbox/worker.server";
import { removeExpiredPersonalData } from "../privacy/retention.server";
import { settleAllReversalsAwaitingOrders, settleReversalsAwaitingOrders } from "../reversals/store.server";
import { getShopSettings, refersionKeysOf } from "../settings/shop-settings.server";

declare global {
  // One worker per process, even when the server module is evaluated again (dev reloads).
  var __deliveryWorker: DeliveryWorker | undefined;
  var __backfillRunner: BackfillRunner | undefined;
  var __stopBackgroundWork: (() => Promise<void>) | undefined;
}

export async function loadShopForDelivery(shop: string) {
  const settings = await getShopSettings(shop);
  return { settings, keys: refersionKeysOf(settings) };
}

/** The worker this process runs, configured from the environment. */
export function createConfiguredWorker(overrides: Partial<Parameters<typeof createDeliveryWorker>[0]> = {}) {
  const config = env();
  return createDeliveryWorker({
    prisma,
    logger,
    loadShop: loadShopForDelivery,
    onOrdersDelivered: (orders, now) => settleReversalsAwaitingOrders(orders, now),
    config: {
      webhookUrl: config.REFERSION_WEBHOOK_URL,
      apiUrl: config.REFERSION_API_URL,
      timeoutMs: config.REFERSION_TIMEOUT_MS,
      retryBaseMs: config.DELIVERY_RETRY_BASE_MS,
      leaseMs: config.DELIVERY_LEASE_MS,
      concurrency: config.DELIVERY_CONCURRENCY,
      pollMs: config.DELIVERY_POLL_MS,
    },
    ...overrides,
  });
}

/**
 * The runner of "resend past orders" jobs this process runs, configured from the environment
 * (it shares the worker's lease and poll settings). Shopify is read with the shop's offline
 * session; the Admin API client is loaded on first use.
 */
export function createConfiguredBackfillRunner(overrides: Partial<BackfillRunnerDeps> = {}) {
  const config = env();
  return createBackfillRunner({
    prisma,
    logger,
    readerFor: async (shop, options) => (await import("../backfill/admin-order-reader.server")).adminOrderReaderFor(shop, options),
    leaseMs: config.DELIVERY_LEASE_MS,
    pollMs: config.DELIVERY_POLL_MS,
    ...overrides,
  });
}

/** Starts the delivery worker (and the backfill runner) with the server, unless DELIVERY_WORKER=off. */
export function startDeliveryWorkerOnce(): DeliveryWorker | null {
  if (env().DELIVERY_WORKER === "off") return null;
  if (!globalThis.__deliveryWorker) {
    const worker = createConfiguredWorker();
    globalThis.__deliveryWorker = worker;
    worker.start();
    const backfill = createConfiguredBackfillRunner();
    globalThis.__backfillRunner = backfill;
    backfill.start();
    // Beside delivery, once at start and then hourly: retention, and two sweeps that cover a
    // process stopped half-way (refunds set aside for an order delivered meanwhile) or an
    // environment fixed since (orders parked because a secret key could not be decrypted).
    const step = (name: string, run: () => Promise<unknown>) =>
      run().catch((error) => logger.error(`${name} failed`, { error: error instanceof Error ? error.message : String(error) }));
    const maintenance = async () => {
      await step("retention run", () => removeExpiredPersonalData({ retentionDays: env().PERSONAL_DATA_RETENTION_DAYS }));
      await step("settling set-aside refunds", () => settleAllReversalsAwaitingOrders());
      await step("releasing orders parked for an unreadable secret", () => releaseOrdersParkedForUnreadableSecret());
    };
    void maintenance();
    const retentionTimer = setInterval(maintenance, 60 * 60 * 1000);
    retentionTimer.unref();
    let stopped: Promise<void> | null = null;
    globalThis.__stopBackgroundWork = () => {
      clearInterval(retentionTimer);
      // Lets the deliveries in flight finish (or their leases lapse) before the process ends.
      stopped ??= Promise.all([worker.stop(), backfill.stop()]).then(() => undefined);
      return stopped;
    };
    const stop = () => void globalThis.__stopBackgroundWork?.();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  }
  return globalThis.__deliveryWorker;
}

/** Stops the worker, the backfill runner and retention of this process, if they run. */
export function stopBackgroundWork(): Promise<void> {
  return globalThis.__stopBackgroundWork?.() ?? Promise.resolve();
}

export function runningDeliveryWorker(): DeliveryWorker | null {
  return globalThis.__deliveryWorker ?? null;
}
