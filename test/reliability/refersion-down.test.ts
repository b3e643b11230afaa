/**
 * Refersion down for 72 hours, on a controllable clock (the worker's `now`): every retry keeps
 * the backoff schedule (exponential, jittered within bounds, at most an hour apart) until the
 * 72-hour window ends; then the order is failed, visibly, with the reason; when Refersion is back
 * the merchant's retry delivers it, once.
 */
import prisma from "~/db.server";
import { getDelivery, listDeliveries } from "~/outbox/delivery-log.server";
import { retryDelivery } from "~/orders/manual-retry.server";
import { MAX_RETRY_DELAY_MS, RETRY_WINDOW_MS } from "~/outbox/retry-policy";
import { createConfiguredWorker } from "~/background/background-work.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { configureShop, deliveryOf, enqueueFixtureOrder } from "../support/outbox";
import { describeReason } from "~/admin/delivery-reasons";

const SHOP = "down-for-days.myshopify.com";
const BASE_MS = 30_000;
const HOUR = 60 * 60 * 1000;

let sandbox: RefersionSandbox;
let clock: Date;

/** A repeatable PRNG, so the jitter is real but the run is the same every time. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function worker(random: () => number) {
  return createConfiguredWorker({
    now: () => clock,
    random,
    config: {
      webhookUrl: sandbox.webhookUrl,
      apiUrl: sandbox.apiUrl,
      timeoutMs: 5_000,
      retryBaseMs: BASE_MS,
      leaseMs: 60_000,
      concurrency: 2,
      pollMs: 50,
    },
  });
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox({ recordBodies: false });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  sandbox.reset();
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
});

describe("Refersion down for 72 hours", () => {
  it("retries on the backoff schedule for 72 hours, fails visibly, and a manual retry delivers once Refersion is back", async () => {
    sandbox.setBehavior({ mode: "fail", status: 503 }, "order");
    await enqueueFixtureOrder(SHOP, 7201);
    // Due from when it was recorded (real time): the clock starts just after.
    clock = new Date(Date.now() + 1_000);
    const { id } = await deliveryOf(SHOP, "7201");
    const down = worker(seeded(42));

    const firstAttemptAt = clock.getTime();
    const attemptTimes: number[] = [];
    const gaps: number[] = [];
    for (let round = 0; round < 500; round += 1) {
      expect(await down.drain()).toBe(1);
      attemptTimes.push(clock.getTime());
      const row = await prisma.delivery.findUniqueOrThrow({ where: { id } });
      if (row.status !== "retrying") break;
      const gap = row.nextAttemptAt.getTime() - clock.getTime();
      gaps.push(gap);
      // Nothing is sent before it is due.
      clock = new Date(row.nextAttemptAt.getTime() - 1);
      expect(await down.drain()).toBe(0);
      clock = row.nextAttemptAt;
    }

    // Every try reached Refersion (and only those).
    expect(sandbox.stats().byEndpoint.order).toBe(attemptTimes.length);
    // The schedule: the n-th wait lies between half and all of min(1 h, base * 2^(n-1))...
    const last = gaps.length - 1;
    for (const [index, gap] of gaps.slice(0, last).entries()) {
      const ceiling = Math.min(MAX_RETRY_DELAY_MS, BASE_MS * 2 ** index);
      expect(gap, `wait ${index + 1}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(gap, `wait ${index + 1}`).toBeLessThanOrEqual(ceiling);
    }
    // ...so it grows exponentially at first (each ceiling twice the one before)...
    expect(gaps.slice(0, 3).every((gap, index) => gap <= BASE_MS * 2 ** index)).toBe(true);
    expect(gaps[6]).toBeGreaterThan(gaps[0] * 8);
    // ...is jittered (the waits at the cap are not all alike)...
    const capped = gaps.slice(10, last);
    expect(capped.length).toBeGreaterThan(50);
    expect(new Set(capped).size).toBeGreaterThan(capped.length / 2);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(HOUR);
    // ...and the last wait ends exactly when the 72-hour window does, where one last try is made.
    expect(gaps[last]).toBeLessThanOrEqual(HOUR);
    expect(attemptTimes.at(-1)).toBe(firstAttemptAt + RETRY_WINDOW_MS);
    expect(attemptTimes.at(-2)).toBeLessThan(firstAttemptAt + RETRY_WINDOW_MS);
    // 72 hours of at most an hour apart and at least half an hour at the cap: ~72 to ~150 tries.
    expect(attemptTimes.length).toBeGreaterThan(72);
    expect(attemptTimes.length).toBeLessThan(160);

    // Then: failed, with the reason, visible in the delivery log with every attempt.
    const failed = await deliveryOf(SHOP, "7201");
    expect(failed).toMatchObject({ status: "failed", lastStatusCode: 503, attempts: attemptTimes.length, leaseOwner: null });
    expect(failed.reasonCode).toBe("retries_exhausted");
    expect(failed.reasonDetail).toMatch(/503/);
    expect(describeReason(failed.reasonCode, failed.reasonDetail)).toMatch(/72 hours.*503/);
    expect(failed.deliveryAttempts.map((attempt) => attempt.startedAt.getTime())).toEqual(attemptTimes);
    expect(failed.deliveryAttempts.every((attempt) => attempt.outcome === (attempt === failed.deliveryAttempts.at(-1) ? "permanent" : "retry"))).toBe(true);
    const log = await listDeliveries(SHOP, { status: "failed", page: 1, pageSize: 20 });
    expect(log.rows.map((row) => row.orderId)).toEqual(["7201"]);
    expect(log.countsByStatus.failed).toBe(1);
    expect((await getDelivery(SHOP, id))?.deliveryAttempts).toHaveLength(attemptTimes.length);

    // A day later nothing has been sent on its own.
    clock = new Date(clock.getTime() + 24 * HOUR);
    expect(await down.drain()).toBe(0);
    expect(sandbox.stats().byEndpoint.order).toBe(attemptTimes.length);

    // Refersion is back; the merchant retries; it is delivered, once.
    sandbox.setBehavior({ mode: "ok" });
    expect(await retryDelivery(SHOP, { orderId: "7201" }, clock)).toEqual({ ok: true, status: "pending" });
    expect(await retryDelivery(SHOP, { orderId: "7201" }, clock)).toEqual({ ok: false, reason: "already_queued" });
    expect(await down.drain()).toBe(1);
    expect(await down.drain()).toBe(0);
    const delivered = await deliveryOf(SHOP, "7201");
    expect(delivered).toMatchObject({ status: "delivered", reasonCode: null, reasonDetail: null, lastStatusCode: 200, attempts: attemptTimes.length + 1 });
    expect(sandbox.orders().map((request) => request.orderId)).toEqual(["7201"]);
  });

  it("a permanent rejection (keys wrong) fails at once instead of waiting 72 hours", async () => {
    sandbox.setBehavior({ mode: "reject" }, "order");
    await enqueueFixtureOrder(SHOP, 7202);
    // Due from when it was recorded (real time): the clock starts just after.
    clock = new Date(Date.now() + 1_000);
    await worker(Math.random).drain();
    const row = await deliveryOf(SHOP, "7202");
    expect(row).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 401 });
    expect(row.reasonCode).toBe("refersion_rejected");
    clock = new Date(clock.getTime() + RETRY_WINDOW_MS);
    expect(await worker(Math.random).drain()).toBe(0);
    expect(sandbox.stats().byEndpoint.order).toBe(1);
  });

  it("a slow Refersion (past the time limit) is retried like one that is down, and delivered once it answers in time", async () => {
    sandbox.setBehavior({ mode: "slow", delayMs: 1_500, remaining: 2 }, "order");
    await enqueueFixtureOrder(SHOP, 7203);
    // Due from when it was recorded (real time): the clock starts just after.
    clock = new Date(Date.now() + 1_000);
    const impatient = createConfiguredWorker({
      now: () => clock,
      random: () => 0.5,
      config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 300, retryBaseMs: BASE_MS, leaseMs: 60_000, concurrency: 1, pollMs: 50 },
    });
    for (let round = 0; round < 3; round += 1) {
      await impatient.drain();
      const row = await deliveryOf(SHOP, "7203");
      if (row.status === "delivered") break;
      expect(row.status).toBe("retrying");
      expect(row.deliveryAttempts.at(-1)?.error).toMatch(/within 300 ms/);
      clock = row.nextAttemptAt;
    }
    const row = await deliveryOf(SHOP, "7203");
    expect(row).toMatchObject({ status: "delivered", attempts: 3 });
    // The two slow requests were abandoned by us before the stand-in answered them; once their
    // delay has passed, the stand-in still counts neither as accepted (see docs/reliability.md).
    await sandbox.waitFor((received) => received.every((request) => request.settled), 10_000);
    expect(sandbox.received.map((request) => [request.status, request.accepted])).toEqual([
      [0, false],
      [0, false],
      [200, true],
    ]);
  });
});
