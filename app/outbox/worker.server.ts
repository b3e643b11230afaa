import crypto from "node:crypto";
import type { Delivery, Prisma, PrismaClient } from "@prisma/client";
import { createJobLoop } from "../jobs/job-loop";
import type { Logger } from "../logger.server";
import { createRefersionClient, RefersionError, type RefersionReply } from "../refersion/client.server";
import type { DeliveryGate } from "./delivery-gate";
import { isReversal } from "./delivery-kind";
import { DUE_STATUSES, type DeliveryStatus } from "./delivery-status";
import { nextRetry, shortestSeriesMs } from "./retry-policy";

export interface DeliveryWorkerConfig {
  webhookUrl: string;
  apiUrl: string;
  timeoutMs: number;
  retryBaseMs: number;
  leaseMs: number;
  concurrency: number;
  pollMs: number;
}

export interface DeliveryWorkerDeps {
  prisma: PrismaClient;
  config: DeliveryWorkerConfig;
  logger: Logger;
  /** Whether the shop's rows may be sent now, with which keys, or what they become instead. */
  gate: (shop: string) => Promise<DeliveryGate>;
  fetch?: typeof fetch;
  now?: () => Date;
  random?: () => number;
  /** Names this process in leases; unique per worker. */
  owner?: string;
  /** Called once per pass with the rows it delivered (what follows a delivery is the caller's). */
  onDelivered?: (rows: { shop: string; orderId: string; kind: string }[], now: Date) => Promise<unknown>;
  /** True when the next pass should be skipped (the process gives the CPU and the database to something more urgent). */
  shouldYield?: () => boolean;
}

/** Statuses a row's predecessor ends in without being delivered: the row then never runs. */
const UNDELIVERED_ENDS: DeliveryStatus[] = ["failed", "skipped"];

/** Due, not leased, and (when it runs after another row) that row delivered. */
const dueWhere = (now: Date): Prisma.DeliveryWhereInput => ({
  status: { in: DUE_STATUSES },
  nextAttemptAt: { lte: now },
  AND: [
    { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    { OR: [{ runsAfterId: null }, { runsAfter: { is: { status: "delivered" } } }] },
  ],
});

/**
 * Delivers due outbox rows to Refersion. Rows are claimed with a conditional update (a lease),
 * so several processes sharing one database never deliver the same row at the same time, and
 * a row whose process died is picked up again once its lease has expired. A row that runs after
 * another (runsAfterId) is claimed only once that one is delivered. The worker knows rows, kinds
 * and Refersion's two endpoints; what a shop allows (`gate`) and what follows a delivery
 * (`onDelivered`) are given to it.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const { prisma, config } = deps;
  if (config.leaseMs <= config.timeoutMs) {
    throw new Error("The delivery lease must be longer than the request timeout, or an order could be sent twice");
  }
  const now = deps.now ?? (() => new Date());
  const owner = deps.owner ?? `worker-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const log = deps.logger.child({ worker: owner });

  /**
   * Leases every candidate that is still due in one conditional update, then reads the rows
   * this worker now holds. (One statement per pass instead of a claim and a read per row: with
   * SQLite each write is its own transaction, and those round trips limited delivery.)
   */
  async function claim(ids: string[], at: Date): Promise<Delivery[]> {
    if (ids.length === 0) return [];
    await prisma.delivery.updateMany({
      where: { id: { in: ids }, ...dueWhere(at) },
      data: { leaseOwner: owner, leaseUntil: new Date(at.getTime() + config.leaseMs) },
    });
    const rows = await prisma.delivery.findMany({ where: { id: { in: ids }, leaseOwner: owner } });
    const order = new Map(ids.map((id, index) => [id, index]));
    return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }

  /*
   * Attempts are recorded by one writer: results that arrive while a write is in progress are
   * written together in the next transaction (group commit), the attempts in one insert. With
   * SQLite every transaction is a disk flush that blocks the process (the driver is
   * synchronous), so one write per result limited delivery to a few dozen orders a second.
   */
  interface Recorded {
    attempt: Prisma.DeliveryAttemptCreateManyInput;
    /** Builds the row's update (a Prisma query runs once, and a failed group is written again). */
    update: () => Prisma.PrismaPromise<unknown>;
    done: (error?: unknown) => void;
  }
  const unwritten: Recorded[] = [];
  let writing = false;

  function record(attempt: Recorded["attempt"], update: Recorded["update"]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      unwritten.push({ attempt, update, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!writing) void writeRecorded();
    });
  }

  function writeGroup(group: Recorded[]) {
    return prisma.$transaction([
      prisma.deliveryAttempt.createMany({ data: group.map((entry) => entry.attempt) }),
      ...group.map((entry) => entry.update()),
    ]);
  }

  async function writeRecorded() {
    writing = true;
    while (unwritten.length > 0) {
      // The driver answers without yielding to I/O, so let the answers that have already
      // arrived reach their lanes first: they join this write instead of each making its own.
      await new Promise((resolve) => setImmediate(resolve));
      const group = unwritten.splice(0);
      try {
        await writeGroup(group);
        for (const entry of group) entry.done();
      } catch (error) {
        if (group.length === 1) {
          group[0].done(error ?? new Error("recording the attempt failed"));
          continue;
        }
        // One row can spoil the group (deleted meanwhile by shop/redact, say). Written one by
        // one, the others are recorded instead of being left leased and sent again later.
        for (const entry of group) {
          try {
            await writeGroup([entry]);
            entry.done();
          } catch (single) {
            entry.done(single ?? new Error("recording the attempt failed"));
          }
        }
      }
    }
    writing = false;
  }

  async function release(id: string, data: Parameters<PrismaClient["delivery"]["updateMany"]>[0]["data"]) {
    await prisma.delivery.updateMany({
      where: { id, leaseOwner: owner },
      data: { ...data, leaseOwner: null, leaseUntil: null },
    });
  }

  /**
   * How many tries have failed in this row's current series, this one included: the backoff
   * exponent. A manual retry starts a new series (it clears firstAttemptAt), so its first
   * failure waits the base delay again rather than the hour the row's total would give. The
   * row's total is the answer unless the series is younger than its tries could be, which only
   * a restart explains; then its tries are counted (one read, only after a manual retry).
   */
  async function failuresSince(row: Delivery, firstAttemptAt: Date, at: Date): Promise<number> {
    if (!row.firstAttemptAt) return 1;
    if (at.getTime() - firstAttemptAt.getTime() >= shortestSeriesMs(row.attempts, config.retryBaseMs)) return row.attempts + 1;
    const earlier = await prisma.deliveryAttempt.count({ where: { deliveryId: row.id, startedAt: { gte: firstAttemptAt } } });
    return earlier + 1;
  }

  /**
   * Sends one leased row. Resolves once Refersion has answered (or the row was set aside), with
   * the write of the attempt still under way when there is one: the lane goes on meanwhile.
   */
  async function deliver(
    row: Delivery,
    gate: DeliveryWorkerDeps["gate"],
  ): Promise<{ outcome: "delivered" | "retry" | "permanent"; written: Promise<void> } | void> {
    const { id } = row;
    const rowLog = log.child({ shop: row.shop, orderId: row.orderId, deliveryId: row.id });
    const shopGate = await gate(row.shop);
    if (!shopGate.open) {
      await release(id, { status: shopGate.status, ...(shopGate.reasonCode ? { reasonCode: shopGate.reasonCode, reasonDetail: null } : {}) });
      return;
    }
    const { keys } = shopGate;
    if (!row.requestBody) {
      await release(id, { status: "failed", reasonCode: "never_mapped", reasonDetail: null });
      return;
    }

    const client = createRefersionClient({
      webhookUrl: config.webhookUrl,
      apiUrl: config.apiUrl,
      keys,
      timeoutMs: config.timeoutMs,
      fetch: deps.fetch,
    });
    const startedAt = now();
    const firstAttemptAt = row.firstAttemptAt ?? startedAt;
    const attempts = row.attempts + 1;

    let reply: RefersionReply | null = null;
    let failure: RefersionError | null = null;
    try {
      const body = JSON.parse(row.requestBody);
      reply = isReversal(row.kind) ? await client.cancelConversion(body) : await client.sendOrder(body);
    } catch (error) {
      failure =
        error instanceof RefersionError
          ? error
          : new RefersionError(error instanceof Error ? error.message : String(error), "network", true, 0);
    }

    const finishedAt = now();
    const common = { attempts, firstAttemptAt, lastAttemptAt: startedAt };
    let outcome: "delivered" | "retry" | "permanent";
    let deliveryUpdate: Record<string, unknown>;
    if (reply) {
      outcome = "delivered";
      deliveryUpdate = { ...common, status: "delivered", reasonCode: null, reasonDetail: null, lastStatusCode: reply.status, deliveredAt: finishedAt };
    } else {
      const decision = failure!.retryable
        ? nextRetry({
            now: finishedAt,
            firstAttemptAt,
            failedAttempts: await failuresSince(row, firstAttemptAt, startedAt),
            baseMs: config.retryBaseMs,
            retryAfterMs: failure!.retryAfterMs,
            random: deps.random,
          })
        : { retry: false as const };
      outcome = decision.retry ? "retry" : "permanent";
      deliveryUpdate = decision.retry
        ? { ...common, status: "retrying", reasonCode: "refersion_unavailable", reasonDetail: failure!.message, lastStatusCode: failure!.status, nextAttemptAt: decision.at }
        : {
            ...common,
            status: "failed",
            lastStatusCode: failure!.status,
            reasonCode: failure!.retryable ? "retries_exhausted" : "refersion_rejected",
            reasonDetail: failure!.message,
          };
    }

    const written = record(
      {
        deliveryId: id,
        shop: row.shop,
        startedAt,
        durationMs: reply?.durationMs ?? failure!.durationMs,
        statusCode: reply?.status ?? failure!.status,
        outcome,
        error: failure ? failure.message : null,
        responseExcerpt: reply?.excerpt ?? failure!.excerpt ?? null,
      },
      () =>
        prisma.delivery.updateMany({
          where: { id, leaseOwner: owner },
          data: { ...deliveryUpdate, leaseOwner: null, leaseUntil: null },
        }),
    );
    return {
      outcome,
      written: written.then(() =>
        rowLog.info("delivery attempt", {
          outcome,
          attempt: attempts,
          status: reply?.status ?? failure!.status,
          durationMs: reply?.durationMs ?? failure!.durationMs,
        }),
      ),
    };
  }

  /**
   * Rows that run after a row that ended without being delivered never run: they are settled as
   * skipped, by a code. A read per pass, which finds nothing most of the time; a write only when
   * it finds some (on SQLite every write takes the database's write lock).
   */
  async function settleRowsAfterUndelivered(at: Date): Promise<void> {
    const where: Prisma.DeliveryWhereInput = {
      status: { in: DUE_STATUSES },
      OR: [{ leaseUntil: null }, { leaseUntil: { lt: at } }],
      runsAfter: { is: { status: { in: UNDELIVERED_ENDS } } },
    };
    const rows = await prisma.delivery.findMany({ where, select: { id: true }, take: 500 });
    if (rows.length === 0) return;
    await prisma.delivery.updateMany({
      where: { ...where, id: { in: rows.map((row) => row.id) } },
      data: { status: "skipped", reasonCode: "predecessor_not_delivered", reasonDetail: null },
    });
  }

  /** Claims and delivers what is due now; resolves with how many rows it attempted. */
  async function runOnce(limit = config.concurrency * 4): Promise<number> {
    const at = now();
    await settleRowsAfterUndelivered(at);
    const candidates = await prisma.delivery.findMany({
      where: dueWhere(at),
      orderBy: { nextAttemptAt: "asc" },
      take: limit,
      select: { id: true },
    });
    const queue = await claim(
      candidates.map((candidate) => candidate.id),
      at,
    );
    // Each shop's gate (settings and keys) is read once per pass, not once per order.
    const shops = new Map<string, ReturnType<DeliveryWorkerDeps["gate"]>>();
    const gate = (shop: string) => {
      let loaded = shops.get(shop);
      if (!loaded) shops.set(shop, (loaded = deps.gate(shop)));
      return loaded;
    };
    // A row is only started while its lease outlasts a whole request; the others are handed
    // back at the end of the pass (not left leased until their lease expires), due at once.
    const startBy = at.getTime() + config.leaseMs - config.timeoutMs;
    const unstarted: string[] = [];
    let attempted = 0;
    const writes: Promise<void>[] = [];
    const deliveredRows: { shop: string; orderId: string; kind: string }[] = [];
    // Leave the lease to expire: the row is retried later, nothing is lost.
    const failed = (id: string) => (error: unknown) =>
      log.error("delivery failed unexpectedly", { deliveryId: id, error: error instanceof Error ? error.message : String(error) });
    const lane = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (now().getTime() > startBy) {
          unstarted.push(next.id);
          continue;
        }
        attempted += 1;
        try {
          const sent = await deliver(next, gate);
          if (sent) {
            const row = next;
            writes.push(
              sent.written.then(() => {
                if (sent.outcome === "delivered") deliveredRows.push({ shop: row.shop, orderId: row.orderId, kind: row.kind });
              }, failed(row.id)),
            );
          }
        } catch (error) {
          failed(next.id)(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.concurrency, queue.length) }, lane));
    // The pass ends when every attempt it made is recorded.
    await Promise.all(writes);
    if (unstarted.length > 0) {
      await prisma.delivery.updateMany({ where: { id: { in: unstarted }, leaseOwner: owner }, data: { leaseOwner: null, leaseUntil: null } });
    }
    if (deps.onDelivered && deliveredRows.length > 0) {
      await deps.onDelivered(deliveredRows, now()).catch((error) =>
        log.error("after-delivery step failed", { error: error instanceof Error ? error.message : String(error) }),
      );
    }
    return attempted;
  }

  /** Runs until every due row is attempted (used by tests and the command line). */
  async function drain(maxRounds = 1_000): Promise<number> {
    let total = 0;
    for (let round = 0; round < maxRounds; round += 1) {
      const attempted = await runOnce();
      total += attempted;
      if (attempted === 0) break;
    }
    return total;
  }

  const loop = createJobLoop({
    pass: async () => (deps.shouldYield?.() ? false : (await runOnce()) > 0),
    idleMs: config.pollMs,
    onError: (error) => log.error("delivery run failed", { error: error instanceof Error ? error.message : String(error) }),
  });

  return {
    owner,
    runOnce,
    drain,
    start() {
      if (loop.isRunning()) return;
      log.info("delivery worker started", { concurrency: config.concurrency });
      loop.start();
    },
    stop: loop.stop,
    /** For health checks: when the loop last completed a pass. */
    lastRunAt: loop.lastRunAt,
    isRunning: loop.isRunning,
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
