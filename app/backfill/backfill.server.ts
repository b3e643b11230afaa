import crypto from "node:crypto";
import type { AttributionSource, BackfillJob, BackfillStatus, Prisma } from "@prisma/client";
import prisma from "../db.server";
import { createJobLoop } from "../jobs/job-loop";
import type { Logger } from "../logger.server";
import { ORDER_KIND } from "../outbox/delivery-kind";
import { acceptOrderWebhook } from "../orders/intake.server";
import { getShopSettings } from "../settings/shop-settings.server";
import { requeueOrder } from "../orders/requeue.server";
import { acceptRefundWebhook } from "../reversals/intake.server";
import { settleReversalsAwaitingOrder } from "../reversals/store.server";
import { DEFAULT_TIME_ZONE, dayKeyOf } from "../zone-days";
import { ordersSearchQuery } from "./graphql-order";
import { ShopifyReadError, type OrderReader } from "./shopify-orders.server";

/**
 * "Resend past orders": a BackfillJob reads a shop's orders of a date range from the Admin
 * GraphQL API, page by page, and records each one in the outbox the way its orders/create would
 * have (no webhook id). An order already in the outbox is never recorded twice (the unique
 * (shop, order, kind) row): one delivered, queued or waiting is left as it is; one that failed or
 * was skipped is judged again from the order as read now and the settings of now
 * (`requeueOrder`: a conditional update, so it is queued once), and stays as it is when it
 * should still not be sent (cancelled, a test order while those are not sent). Progress (orders read, orders queued, the
 * total, the page cursor) is saved after every page, so a job survives a reload of the page and
 * a restart of the process: it goes on from the last saved page.
 */

export type { BackfillStatus };
const ACTIVE: BackfillStatus[] = ["queued", "running"];

/** An order the job queued: recorded by it (no webhook id, after it started) and going to be sent. */
const QUEUED_STATUSES: Prisma.EnumDeliveryStatusFilter<"Delivery"> = { notIn: ["skipped", "failed"] };

export interface BackfillRange {
  /** Start of the first day (in the shop's time zone). */
  since: Date;
  /** End of the last day (in the shop's time zone), or null for "until now". */
  until: Date | null;
}

/**
 * Starts a job for the range, unless the shop already has one queued or running: that one is
 * returned instead (`created: false`), so a double click or a second admin starts nothing new.
 */
export async function startBackfill(shop: string, range: BackfillRange): Promise<{ job: BackfillJob; created: boolean }> {
  return prisma.$transaction(async (tx) => {
    const active = await tx.backfillJob.findFirst({ where: { shop, status: { in: ACTIVE } }, orderBy: { createdAt: "desc" } });
    if (active) return { job: active, created: false };
    const job = await tx.backfillJob.create({ data: { shop, since: range.since, until: range.until, status: "queued" } });
    return { job, created: true };
  });
}

/** The shop's most recent job, for the admin page and the command line. */
export function latestBackfillJob(shop: string): Promise<BackfillJob | null> {
  return prisma.backfillJob.findFirst({ where: { shop }, orderBy: { createdAt: "desc" } });
}

/** Attribution sources that come from a click (the storefront's cart report, the checkout pixel). */
const FROM_A_CLICK: AttributionSource[] = ["cart_token", "cart_attribute", "pixel"];

/** The orders a job queued (recorded by it), by whether they carry click data an affiliate can be credited by. */
export interface JobClickData {
  withClickData: number;
  withoutClickData: number;
}

/**
 * Counts the orders the job queued by what can credit them at Refersion (Delivery.attributionSource):
 * a click the storefront reported (the cart token, `_rfsn_cart`) or the checkout pixel saw, or
 * nothing of the kind. Rows planned before the source was recorded count as neither.
 */
export async function clickDataOfJob(job: Pick<BackfillJob, "shop" | "createdAt">): Promise<JobClickData> {
  const groups = await prisma.delivery.groupBy({
    by: ["attributionSource"],
    where: { shop: job.shop, kind: ORDER_KIND, webhookId: null, createdAt: { gte: job.createdAt }, status: QUEUED_STATUSES },
    _count: { _all: true },
  });
  let withClickData = 0;
  let withoutClickData = 0;
  for (const group of groups) {
    if (group.attributionSource === null) continue;
    if (FROM_A_CLICK.includes(group.attributionSource)) withClickData += group._count._all;
    else withoutClickData += group._count._all;
  }
  return { withClickData, withoutClickData };
}

export interface BackfillProgress {
  id: string;
  status: BackfillStatus;
  since: string;
  until: string | null;
  processed: number;
  enqueued: number;
  total: number | null;
  /** 0..100, null while the total is unknown. */
  percent: number | null;
  /** Why the job failed, or why it is paused (it goes on by itself). */
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** The job's figures; its days are those of `timeZone` (the shop's, in which the range was chosen). */
export function progressOf(job: BackfillJob, timeZone: string = DEFAULT_TIME_ZONE): BackfillProgress {
  const status = job.status;
  // Whole pages, and the orders of the page being read.
  const processed = job.processed + (status === "running" ? job.pageProcessed : 0);
  const percent =
    status === "done" ? 100 : job.total === null ? null : job.total === 0 ? 0 : Math.min(100, Math.floor((processed / job.total) * 100));
  return {
    id: job.id,
    status,
    since: dayKeyOf(job.since, timeZone),
    until: job.until ? dayKeyOf(job.until, timeZone) : null,
    processed,
    enqueued: job.enqueued,
    total: job.total,
    percent,
    error: job.error,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

export interface BackfillRunnerDeps {
  logger: Logger;
  /** The shop's order reader (an Admin API client with the shop's offline session). */
  readerFor: (shop: string, options: { personalData: boolean }) => Promise<OrderReader>;
  /** After this long, a job held by a dead process is taken over. */
  leaseMs: number;
  /** How often an idle runner looks for jobs. */
  pollMs: number;
  /** How long a job waits after Shopify could not be read (it then goes on from its cursor). */
  retryDelayMs?: number;
  now?: () => Date;
  owner?: string;
  /** Called after every saved page (the command line draws its progress bar with it). */
  onProgress?: (job: BackfillJob) => void;
}

export type BackfillRunOutcome = "done" | "failed" | "paused" | "lost";

/**
 * Runs jobs: claims one with a lease (a conditional update, like the delivery worker), renews
 * the lease as it goes, and saves progress after every page. Several processes may run one each;
 * a job is only ever read by the process holding its lease.
 */
export function createBackfillRunner(deps: BackfillRunnerDeps) {
  const now = deps.now ?? (() => new Date());
  const owner = deps.owner ?? `backfill-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const log = deps.logger.child({ backfill: owner });
  const retryDelayMs = deps.retryDelayMs ?? 60_000;
  let stopping = false;
  // The job being run, by the loop or by a caller of runOnce (the command line): stop() waits for it.
  let current: Promise<unknown> | null = null;

  const leaseUntil = () => new Date(now().getTime() + deps.leaseMs);
  const free = () => ({ OR: [{ leaseUntil: null }, { leaseUntil: { lt: now() } }] });

  /** Takes the job (a given one, or the oldest due) when nobody holds it; null otherwise. */
  async function claim(jobId?: string): Promise<BackfillJob | null> {
    const candidates = await prisma.backfillJob.findMany({
      where: { ...(jobId ? { id: jobId } : {}), status: { in: ACTIVE }, ...free() },
      orderBy: { createdAt: "asc" },
      take: 5,
      select: { id: true },
    });
    for (const candidate of candidates) {
      const { count } = await prisma.backfillJob.updateMany({
        where: { id: candidate.id, status: { in: ACTIVE }, ...free() },
        // Taken up again, the page in progress is read again from the saved cursor.
        data: { status: "running", leaseOwner: owner, leaseUntil: leaseUntil(), pageProcessed: 0 },
      });
      if (count === 1) return prisma.backfillJob.findUniqueOrThrow({ where: { id: candidate.id } });
    }
    return null;
  }

  /** Whether the order's outbox row is (or will be) sent: not skipped, not failed. */
  async function isBeingSent(shop: string, orderId: string): Promise<boolean> {
    const row = await prisma.delivery.findUnique({ where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } }, select: { status: true } });
    return row !== null && row.status !== "skipped" && row.status !== "failed";
  }

  /** Updates the job while this runner holds it; false once the lease was lost. */
  async function save(job: BackfillJob, data: Prisma.BackfillJobUpdateManyMutationInput): Promise<boolean> {
    const { count } = await prisma.backfillJob.updateMany({ where: { id: job.id, leaseOwner: owner }, data });
    return count === 1;
  }

  async function run(job: BackfillJob): Promise<BackfillRunOutcome> {
    const jobLog = log.child({ shop: job.shop, jobId: job.id });
    try {
      const settings = await getShopSettings(job.shop);
      const reader = await deps.readerFor(job.shop, { personalData: settings.sendCustomerDetails });
      const search = ordersSearchQuery(job.since, job.until);
      let { cursor, processed, enqueued, total } = job;
      if (total === null) {
        total = await reader.count(search);
        if (!(await save(job, { total, leaseUntil: leaseUntil() }))) return "lost";
        deps.onProgress?.({ ...job, status: "running", total });
      }
      for (;;) {
        if (stopping) {
          await save(job, { leaseOwner: null, leaseUntil: null, pageProcessed: 0 });
          return "paused";
        }
        const page = await reader.page(search, cursor);
        const orderIds: string[] = [];
        let requeuedHere = 0;
        for (const [index, gid] of page.ids.entries()) {
          const order = await reader.order(gid);
          if (order) {
            const result = await acceptOrderWebhook({ shop: job.shop, payload: order, webhookId: null, source: "backfill" });
            orderIds.push(result.orderId);
            if (result.outcome === "duplicate") {
              // Not delivered yet (failed, or skipped for a reason that may no longer hold): decide again.
              if ((await requeueOrder(job.shop, result.orderId, { payload: order, now: now() })).requeued) requeuedHere += 1;
            } else {
              // Refunds that arrived before the order are planned against it now.
              await settleReversalsAwaitingOrder(job.shop, result.orderId, now());
            }
            // Refunds made before the app had the order are reversed beside it, as their
            // refunds/create would have been (also for an order the app had, in case those were
            // missed: a refund recorded before is not recorded twice).
            if (order.financial_status === "partially_refunded" && (await isBeingSent(job.shop, result.orderId))) {
              for (const refund of await reader.refunds(gid)) await acceptRefundWebhook({ shop: job.shop, payload: refund, webhookId: null });
            }
          }
          // Reading a page of orders can take a while under the rate limit: keep the job, and
          // show how far into the page it is.
          if (!(await save(job, { leaseUntil: leaseUntil(), pageProcessed: index + 1 }))) return "lost";
          if (stopping) break;
        }
        if (stopping) continue;
        // Counted from the outbox, so a page read again after a crash counts its orders once.
        const queuedHere = await prisma.delivery.count({
          where: { shop: job.shop, kind: ORDER_KIND, orderId: { in: orderIds }, webhookId: null, createdAt: { gte: job.createdAt }, status: QUEUED_STATUSES },
        });
        processed += page.ids.length;
        // Orders queued again are counted as they happen (a page read again after a crash finds
        // them queued already and does not count them twice, nor at all if the crash came first).
        enqueued += queuedHere + requeuedHere;
        cursor = page.endCursor ?? cursor;
        const done = !page.hasNextPage;
        const progress: Prisma.BackfillJobUpdateManyMutationInput = {
          processed,
          pageProcessed: 0,
          enqueued,
          cursor,
          error: null,
          leaseUntil: leaseUntil(),
          ...(done ? { status: "done", total: Math.max(total ?? 0, processed), finishedAt: now(), leaseOwner: null, leaseUntil: null } : {}),
        };
        if (!(await save(job, progress))) return "lost";
        if (deps.onProgress) deps.onProgress(await prisma.backfillJob.findUniqueOrThrow({ where: { id: job.id } }));
        jobLog.info("backfill page saved", { processed, enqueued, total, done });
        if (done) return "done";
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ShopifyReadError && error.retryable) {
        jobLog.warn("backfill paused: Shopify could not be read", { error: message });
        // The job stays running; any runner takes it up again from its cursor once this passes.
        await save(job, { error: `Paused, will go on by itself: ${message}`, pageProcessed: 0, leaseOwner: null, leaseUntil: new Date(now().getTime() + retryDelayMs) });
        return "paused";
      }
      jobLog.error("backfill failed", { error: message });
      const accessProblem = error instanceof ShopifyReadError ? error.accessProblem : null;
      await save(job, { status: "failed", error: message, accessProblem, pageProcessed: 0, finishedAt: now(), leaseOwner: null, leaseUntil: null });
      return "failed";
    }
  }

  /** Claims and runs one job (a given one, or the oldest due); null when there was none to take. */
  async function runOnce(jobId?: string): Promise<{ jobId: string; outcome: BackfillRunOutcome } | null> {
    const job = await claim(jobId);
    if (!job) return null;
    const work = run(job);
    current = work;
    try {
      return { jobId: job.id, outcome: await work };
    } finally {
      current = null;
    }
  }

  const loop = createJobLoop({
    pass: async () => (await runOnce()) !== null,
    idleMs: deps.pollMs,
    onError: (error) => log.error("backfill run failed", { error: error instanceof Error ? error.message : String(error) }),
  });

  return {
    owner,
    runOnce,
    start() {
      if (loop.isRunning()) return;
      stopping = false;
      loop.start();
    },
    /** Stops after the order being read; the job is released and goes on from its last saved page. */
    async stop() {
      stopping = true;
      await loop.stop();
      await current;
    },
  };
}

export type BackfillRunner = ReturnType<typeof createBackfillRunner>;
