import { createBackfillRunner, type BackfillRunner, type BackfillRunnerDeps } from "../backfill/backfill.server";
import type { WorkerProbe } from "../database/health.server";
import prisma from "../db.server";
import { env } from "../env.server";
import { createBurstYield } from "../database/write-turns";
import { createJobLoop, type JobLoop } from "../jobs/job-loop";
import { logger } from "../logger.server";
import { sweepClickHints } from "../attribution/click-hints.server";
import { releaseOrdersParkedForUnreadableSecret } from "../orders/release.server";
import { ORDER_KIND } from "../outbox/delivery-kind";
import { createDeliveryWorker, type DeliveryWorker } from "../outbox/worker.server";
import { retryFailedComplianceRequests } from "../privacy/compliance.server";
import { removeExpiredPersonalData, removeExpiredReceivedWebhooks } from "../privacy/retention.server";
import { settleAllReversalsAwaitingOrders, settleReversalsAwaitingOrders } from "../reversals/store.server";
import { deliveryGateFor } from "../settings/delivery-gate.server";
import { removeExpiredWebhookReceipts } from "../webhooks/receipts.server";
import { RECEIVED_WEBHOOK_OWNER, actOnReceivedWebhooks } from "../webhooks/received-webhooks.server";

/**
 * The background work of an app process: delivering the outbox, running "resend past orders"
 * jobs, and the hourly maintenance, each in the one job loop (app/jobs/job-loop.ts). Nothing
 * starts when this module is imported: `npm start` (server/app-server.mjs, also under `npm run
 * dev`) and `npm run worker` (server/worker.mjs) call startBackgroundWork().
 */

declare global {
  // One set of loops per process, even if the server build is evaluated again.
  var __deliveryWorker: DeliveryWorker | undefined;
  var __backfillRunner: BackfillRunner | undefined;
  var __stopBackgroundWork: (() => Promise<void>) | undefined;
  var __backgroundThreadProbe: WorkerProbe | undefined;
}

/** The worker this process runs, configured from the environment. */
export function createConfiguredWorker(overrides: Partial<Parameters<typeof createDeliveryWorker>[0]> = {}) {
  const config = env();
  return createDeliveryWorker({
    prisma,
    logger,
    gate: deliveryGateFor,
    // Refunds that arrived before their order are planned once the order is delivered.
    onDelivered: (rows, now) => settleReversalsAwaitingOrders(rows.filter((row) => row.kind === ORDER_KIND), now),
    // Webhooks first: in a burst of them, delivery waits (app/database/write-turns.ts).
    shouldYield: createBurstYield(),
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
    logger,
    readerFor: async (shop, options) => (await import("../backfill/admin-order-reader.server")).adminOrderReaderFor(shop, options),
    leaseMs: config.DELIVERY_LEASE_MS,
    pollMs: config.DELIVERY_POLL_MS,
    ...overrides,
  });
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * How often the background work looks for webhooks the fast path acknowledged, when none waited
 * at its last look. Short, and not DELIVERY_POLL_MS: an order is recorded (or a duplicate or a
 * stranger's webhook dropped) about as soon as the route did it, even when delivery is paused.
 */
const RECEIVED_WEBHOOKS_POLL_MS = 200;

/**
 * Acting on the order webhooks the fast path acknowledged (app/webhooks/received-webhooks.server.ts),
 * as their routes would have: at once while rows wait.
 */
function createReceivedWebhooksLoop(): JobLoop {
  const config = env();
  const shouldYield = createBurstYield();
  return createJobLoop({
    // In a burst of webhooks, acknowledging them goes first; they are committed and acted on after it.
    pass: async () => (shouldYield() ? false : actOnReceivedWebhooks({ owner: RECEIVED_WEBHOOK_OWNER, leaseMs: config.DELIVERY_LEASE_MS })),
    idleMs: RECEIVED_WEBHOOKS_POLL_MS,
    onError: (error) => logger.error("acting on received webhooks failed", { error: error instanceof Error ? error.message : String(error) }),
  });
}

/**
 * Beside delivery, once at start and then hourly: retention (personal data, webhook receipts),
 * two sweeps that cover a process stopped half-way (refunds set aside for an order delivered
 * meanwhile) or an environment fixed since (orders parked because a secret key could not be
 * decrypted), and compliance requests that failed, carried out again. Each step on its own: one
 * failing does not keep the others from running.
 */
function createMaintenanceLoop(): JobLoop {
  const step = (name: string, run: () => Promise<unknown>) =>
    run().catch((error) => logger.error(`${name} failed`, { error: error instanceof Error ? error.message : String(error) }));
  return createJobLoop({
    pass: async () => {
      await step("retention run", () => removeExpiredPersonalData({ retentionDays: env().PERSONAL_DATA_RETENTION_DAYS }));
      await step("removing received webhooks past retention", () => removeExpiredReceivedWebhooks({ retentionDays: env().PERSONAL_DATA_RETENTION_DAYS }));
      await step("settling set-aside refunds", () => settleAllReversalsAwaitingOrders());
      await step("releasing orders parked for an unreadable secret", () => releaseOrdersParkedForUnreadableSecret());
      await step("retrying failed compliance requests", () => retryFailedComplianceRequests());
      await step("removing expired webhook receipts", () => removeExpiredWebhookReceipts());
      await step("removing old checkout pixel reports", () => sweepClickHints());
      return false;
    },
    idleMs: HOUR_MS,
    onError: (error) => logger.error("maintenance failed", { error: error instanceof Error ? error.message : String(error) }),
    // The delivery and backfill loops keep the process alive; this one alone would not.
    keepsProcessAlive: false,
  });
}

/**
 * Starts delivery, backfill and maintenance in this process, unless DELIVERY_WORKER=off; once
 * per process. Returns the delivery worker, or null when the worker is off. SIGTERM / SIGINT stop
 * them in order (server/*.mjs also stop them before exiting).
 */
export function startBackgroundWork(): DeliveryWorker | null {
  if (env().DELIVERY_WORKER === "off") return null;
  if (!globalThis.__deliveryWorker) {
    const worker = createConfiguredWorker();
    const backfill = createConfiguredBackfillRunner();
    const maintenance = createMaintenanceLoop();
    const received = createReceivedWebhooksLoop();
    globalThis.__deliveryWorker = worker;
    globalThis.__backfillRunner = backfill;
    worker.start();
    backfill.start();
    maintenance.start();
    received.start();
    let stopped: Promise<void> | null = null;
    globalThis.__stopBackgroundWork = () => {
      // Lets the deliveries in flight finish (or their leases lapse) before the process ends.
      // Maintenance is not waited for: its steps are conditional updates that a later run repeats.
      void maintenance.stop();
      stopped ??= Promise.all([worker.stop(), backfill.stop(), received.stop()]).then(() => undefined);
      return stopped;
    };
    const stop = () => void globalThis.__stopBackgroundWork?.();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  }
  return globalThis.__deliveryWorker;
}

/** Stops the worker, the backfill runner and maintenance of this process, if they run. */
export function stopBackgroundWork(): Promise<void> {
  return globalThis.__stopBackgroundWork?.() ?? Promise.resolve();
}

export function runningDeliveryWorker(): DeliveryWorker | null {
  return globalThis.__deliveryWorker ?? null;
}

/** Whether this process's configuration runs the background work (DELIVERY_WORKER). */
export function backgroundWorkWanted(): boolean {
  return env().DELIVERY_WORKER === "on";
}

/**
 * What `npm start`'s background thread (server/background-thread.mjs) last reported about its
 * delivery worker, for the web server's health check.
 */
export function reportBackgroundThread(report: { running: boolean; lastRunAt: string | null }) {
  const lastRunAt = report.lastRunAt ? new Date(report.lastRunAt) : null;
  globalThis.__backgroundThreadProbe = { isRunning: () => report.running, lastRunAt: () => lastRunAt };
}

/** The delivery worker of this process, or of its background thread; null when neither runs. */
export function deliveryWorkerProbe(): WorkerProbe | null {
  return globalThis.__deliveryWorker ?? globalThis.__backgroundThreadProbe ?? null;
}
