import http from "node:http";
import type { AddressInfo } from "node:net";

// Every log line is captured and scanned for secrets below.
vi.hoisted(() => {
  process.env.LOG_LEVEL = "debug";
});

import prisma from "~/db.server";
import { setLogSink } from "~/logger.server";
import { createConfiguredWorker } from "~/background/background-work.server";
import { RETRY_WINDOW_MS } from "~/outbox/retry-policy";
import { retryDelivery } from "~/orders/manual-retry.server";
import { releaseOrdersParkedForUnreadableSecret, releaseOrdersWaitingForKeys } from "~/orders/release.server";
import { startRefersionSandbox, DEFAULT_SANDBOX_KEYS, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { configureShop, deliveryOf, enqueueFixtureOrder } from "../support/outbox";

const SHOP = "worker-test.myshopify.com";
const logLines: string[] = [];
setLogSink((line) => logLines.push(line));

let sandbox: RefersionSandbox;
let clock: Date;
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

function worker(overrides: { timeoutMs?: number; leaseMs?: number } = {}) {
  return createConfiguredWorker({
    now: () => clock,
    random: () => 0.5,
    config: {
      webhookUrl: sandbox.webhookUrl,
      apiUrl: sandbox.apiUrl,
      timeoutMs: overrides.timeoutMs ?? 5_000,
      retryBaseMs: 30_000,
      leaseMs: overrides.leaseMs ?? 60_000,
      concurrency: 4,
      pollMs: 50,
    },
  });
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  sandbox.reset();
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  clock = new Date(Date.now() + 1_000);
});

/** A local endpoint answering every request with `answer`; records what it received. */
async function startEndpoint(answer: (request: http.IncomingMessage, response: http.ServerResponse) => void) {
  const received: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((request, response) => {
    received.push(request.headers);
    request.resume();
    request.on("end", () => answer(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tracker/orders/paid`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function workerFor(url: string) {
  return createConfiguredWorker({
    now: () => clock,
    random: () => 0.5,
    config: { webhookUrl: url, apiUrl: url, timeoutMs: 5_000, retryBaseMs: 30_000, leaseMs: 60_000, concurrency: 1, pollMs: 50 },
  });
}

describe("delivery worker yielding", () => {
  it("skips its passes while it is told to yield (a burst of webhooks), then delivers", async () => {
    await enqueueFixtureOrder(SHOP, 5001);
    let yielding = true;
    let asked = 0;
    const running = createConfiguredWorker({
      now: () => clock,
      random: () => 0.5,
      config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 30_000, leaseMs: 60_000, concurrency: 1, pollMs: 20 },
      shouldYield: () => {
        asked += 1;
        return yielding;
      },
    });
    running.start();
    try {
      // Several passes asked and skipped: nothing was sent meanwhile.
      while (asked < 5) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(sandbox.received).toHaveLength(0);
      expect((await deliveryOf(SHOP, "5001")).status).toBe("pending");
      yielding = false;
      while ((await deliveryOf(SHOP, "5001")).status !== "delivered") await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sandbox.orders()).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });
});

describe("delivery worker against the Refersion stand-in over HTTP", () => {
  it.each([400, 403, 404, 422])("marks a %i as failed at once: the request itself was refused", async (status) => {
    sandbox.setBehavior({ mode: "fail", status }, "order");
    await enqueueFixtureOrder(SHOP, 5100 + status);
    await worker().drain();
    advance(RETRY_WINDOW_MS);
    await worker().drain();
    const delivery = await deliveryOf(SHOP, String(5100 + status));
    expect(delivery).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: status });
    expect(delivery.deliveryAttempts.map((attempt) => attempt.outcome)).toEqual(["permanent"]);
    expect(sandbox.received).toHaveLength(1);
  });

  it.each([408, 429, 500, 502, 503, 504])("retries a %i later, then delivers", async (status) => {
    sandbox.setBehavior({ mode: "fail", status, remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5200 + status);
    await worker().drain();
    expect(await deliveryOf(SHOP, String(5200 + status))).toMatchObject({ status: "retrying", attempts: 1, lastStatusCode: status });
    advance(60 * 60 * 1000);
    await worker().drain();
    expect(await deliveryOf(SHOP, String(5200 + status))).toMatchObject({ status: "delivered", attempts: 2 });
    expect(sandbox.orders()).toHaveLength(1);
  });

  it("does not follow a redirect, so the secret key header never reaches where it points", async () => {
    const target = await startEndpoint((_request, response) => response.end("{}"));
    const redirecting = await startEndpoint((_request, response) => {
      response.writeHead(307, { Location: target.url });
      response.end();
    });
    try {
      await enqueueFixtureOrder(SHOP, 5010);
      await workerFor(redirecting.url).drain();
    } finally {
      await redirecting.close();
      await target.close();
    }
    expect(redirecting.received).toHaveLength(1);
    expect(redirecting.received[0]["refersion-secret-key"]).toBe(DEFAULT_SANDBOX_KEYS.secretKey);
    expect(target.received).toHaveLength(0);
    const delivery = await deliveryOf(SHOP, "5010");
    expect(delivery).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 307 });
  });

  it("stores no part of a secret key that an answer echoes across the excerpt's cut", async () => {
    const secret = "sec_straddling_the_excerpt_limit_789";
    await configureShop(SHOP, { publicKey: "pub_straddle", secretKey: secret });
    const echo = await startEndpoint((request, response) => {
      response.writeHead(500, { "Content-Type": "text/plain" });
      // The key starts 20 characters before the 500-character cut.
      response.end(`${"x".repeat(480)}${String(request.headers["refersion-secret-key"])} and more`);
    });
    try {
      await enqueueFixtureOrder(SHOP, 5011);
      await workerFor(echo.url).drain();
    } finally {
      await echo.close();
    }
    const [attempt] = (await deliveryOf(SHOP, "5011")).deliveryAttempts;
    expect(attempt.responseExcerpt).toMatch(/^x{480}\[redacted\]/);
    expect(attempt.responseExcerpt).not.toContain(secret.slice(0, 12));
  });

  it("parks an order whose shop's secret key cannot be decrypted, with the reason, until the keys are saved again", async () => {
    await enqueueFixtureOrder(SHOP, 5012);
    // As if APP_ENCRYPTION_KEY had been replaced without APP_ENCRYPTION_KEY_PREVIOUS.
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { secretKeyKeyId: "retired-key" } });
    expect(await worker().drain()).toBe(1);
    let delivery = await deliveryOf(SHOP, "5012");
    expect(delivery).toMatchObject({ status: "waiting_for_keys", attempts: 0, leaseOwner: null, reasonCode: "secret_unreadable" });
    expect(sandbox.received).toHaveLength(0);
    expect(logLines.join("\n")).toMatch(/secret key cannot be decrypted/);

    await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
    expect(await releaseOrdersWaitingForKeys(SHOP, clock)).toBe(1);
    await worker().drain();
    delivery = await deliveryOf(SHOP, "5012");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, reasonCode: null, reasonDetail: null });
  });

  it("releases orders parked for an unreadable secret by itself once the secret can be read again (the environment fixed)", async () => {
    await enqueueFixtureOrder(SHOP, 5014);
    const { secretKeyKeyId } = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { secretKeyKeyId: "retired-key" } });
    await worker().drain();
    expect(await deliveryOf(SHOP, "5014")).toMatchObject({ status: "waiting_for_keys", reasonCode: "secret_unreadable" });

    // Still unreadable: nothing moves.
    expect(await releaseOrdersParkedForUnreadableSecret(clock)).toBe(0);
    // As if APP_ENCRYPTION_KEY_PREVIOUS now held the key it was sealed with.
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { secretKeyKeyId } });
    expect(await releaseOrdersParkedForUnreadableSecret(clock)).toBe(1);
    await worker().drain();
    expect(await deliveryOf(SHOP, "5014")).toMatchObject({ status: "delivered", attempts: 1, reasonCode: null, reasonDetail: null });
    expect(sandbox.orders()).toHaveLength(1);
  });

  it("starts the backoff again after a manual retry instead of continuing the old series", async () => {
    sandbox.setBehavior({ mode: "fail", status: 503 }, "order");
    await enqueueFixtureOrder(SHOP, 5013);
    // Refersion down for the whole 72 hours: the row ends failed after many tries, the last
    // waits an hour apart.
    let delivery = await deliveryOf(SHOP, "5013");
    for (let hour = 0; hour <= 80 && delivery.status !== "failed"; hour += 1) {
      await worker().drain();
      advance(60 * 60 * 1000);
      delivery = await deliveryOf(SHOP, "5013");
    }
    expect(delivery.status).toBe("failed");
    const triesBefore = delivery.attempts;
    expect(triesBefore).toBeGreaterThan(10);

    expect(await retryDelivery(SHOP, { orderId: "5013" }, clock)).toMatchObject({ ok: true });
    await worker().drain();
    delivery = await deliveryOf(SHOP, "5013");
    expect(delivery).toMatchObject({ status: "retrying", attempts: triesBefore + 1 });
    // The first failure of the new series waits the base delay (22.5 s with random 0.5), the
    // second twice that: not the hour the row's total number of tries would give.
    expect(delivery.nextAttemptAt.getTime() - clock.getTime()).toBe(22_500);
    advance(22_500);
    await worker().drain();
    delivery = await deliveryOf(SHOP, "5013");
    expect(delivery).toMatchObject({ status: "retrying", attempts: triesBefore + 2 });
    expect(delivery.nextAttemptAt.getTime() - clock.getTime()).toBe(45_000);
  });

  it("delivers a queued order once, with the shop's keys, and records the attempt", async () => {
    await enqueueFixtureOrder(SHOP, 5001);
    expect(await worker().drain()).toBe(1);

    const orders = sandbox.orders();
    expect(orders).toHaveLength(1);
    expect(orders[0].publicKey).toBe(DEFAULT_SANDBOX_KEYS.publicKey);
    expect(orders[0].body).toMatchObject({ order_id: "5001", currency_code: "USD" });

    const delivery = await deliveryOf(SHOP, "5001");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
    expect(delivery.deliveryAttempts).toHaveLength(1);
    expect(delivery.deliveryAttempts[0]).toMatchObject({ outcome: "delivered", statusCode: 200 });
    expect(delivery.deliveryAttempts[0].responseExcerpt).toContain("ok");

    // Nothing is due any more: a second pass sends nothing.
    expect(await worker().drain()).toBe(0);
    expect(sandbox.orders()).toHaveLength(1);
  });

  it("marks a 401 (keys rejected) as failed at once, without retrying", async () => {
    await configureShop(SHOP, { publicKey: "pub_unknown", secretKey: "sec_unknown_secret" });
    await enqueueFixtureOrder(SHOP, 5002);
    await worker().drain();
    advance(RETRY_WINDOW_MS);
    await worker().drain();

    const delivery = await deliveryOf(SHOP, "5002");
    expect(delivery).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 401 });
    expect(delivery.reasonCode).toBe("refersion_rejected");
    expect(delivery.reasonDetail).toMatch(/401/);
    expect(sandbox.received).toHaveLength(1);
  });

  it("retries a 503 with backoff and then delivers", async () => {
    sandbox.setBehavior({ mode: "fail", status: 503, remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5003);
    await worker().drain();

    let delivery = await deliveryOf(SHOP, "5003");
    expect(delivery).toMatchObject({ status: "retrying", attempts: 1, lastStatusCode: 503 });
    // First retry: between half and all of the 30 s base (random fixed at 0.5 -> 22.5 s).
    expect(delivery.nextAttemptAt.getTime() - clock.getTime()).toBe(22_500);

    // Not due yet: nothing is sent.
    advance(10_000);
    expect(await worker().drain()).toBe(0);

    advance(13_000);
    expect(await worker().drain()).toBe(1);
    delivery = await deliveryOf(SHOP, "5003");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2, lastStatusCode: 200 });
    expect(delivery.deliveryAttempts.map((a) => a.outcome)).toEqual(["retry", "delivered"]);
    expect(sandbox.orders()).toHaveLength(1);
  });

  it("retries after a timeout and then delivers", async () => {
    sandbox.setBehavior({ mode: "timeout", remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5004);
    await worker({ timeoutMs: 300 }).drain();

    let delivery = await deliveryOf(SHOP, "5004");
    expect(delivery.status).toBe("retrying");
    expect(delivery.deliveryAttempts[0]).toMatchObject({ outcome: "retry", statusCode: null });
    expect(delivery.deliveryAttempts[0].error).toMatch(/within 300 ms/);

    advance(60_000);
    await worker({ timeoutMs: 300 }).drain();
    delivery = await deliveryOf(SHOP, "5004");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("honours Retry-After on 429", async () => {
    sandbox.setBehavior({ mode: "rate_limit", retryAfterSeconds: 120, remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5005);
    await worker().drain();
    const delivery = await deliveryOf(SHOP, "5005");
    expect(delivery).toMatchObject({ status: "retrying", lastStatusCode: 429 });
    expect(delivery.nextAttemptAt.getTime() - clock.getTime()).toBe(120_000);
  });

  it("treats a 2xx with an error body as a failure", async () => {
    sandbox.setBehavior({ mode: "error_body", remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5006);
    await worker().drain();
    const delivery = await deliveryOf(SHOP, "5006");
    expect(delivery.status).toBe("failed");
    expect(delivery.reasonCode).toBe("refersion_rejected");
    expect(delivery.reasonDetail).toMatch(/error in the body/);
  });

  it("picks up a row whose worker died mid-delivery once its lease expires, and delivers it once", async () => {
    await enqueueFixtureOrder(SHOP, 5007);
    const { id } = await deliveryOf(SHOP, "5007");
    // A process claimed the row and died before recording anything.
    await prisma.delivery.update({
      where: { id },
      data: { leaseOwner: "worker-that-died", leaseUntil: new Date(clock.getTime() + 60_000) },
    });

    expect(await worker().drain()).toBe(0);
    expect(sandbox.received).toHaveLength(0);

    advance(60_001);
    expect(await worker().drain()).toBe(1);
    const delivery = await deliveryOf(SHOP, "5007");
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, leaseOwner: null });
    expect(sandbox.orders()).toHaveLength(1);
  });

  it("hands back at once the rows a pass could not start while their lease still outlasted a request", async () => {
    for (const orderId of [5020, 5021, 5022]) await enqueueFixtureOrder(SHOP, orderId);
    // Refersion is slow enough that, after the first request, a whole request no longer fits in
    // what is left of the pass's leases (lease 60 s, timeout 5 s: rows must start within 55 s).
    const slowRefersion: typeof fetch = async (input, init) => {
      advance(56_000);
      return fetch(input, init);
    };
    const oneLane = createConfiguredWorker({
      now: () => clock,
      random: () => 0.5,
      fetch: slowRefersion,
      config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 30_000, leaseMs: 60_000, concurrency: 1, pollMs: 50 },
    });
    expect(await oneLane.runOnce()).toBe(1);
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: { orderId: "asc" } });
    expect(rows.map((row) => [row.orderId, row.status, row.leaseOwner])).toEqual([
      ["5020", "delivered", null],
      ["5021", "pending", null],
      ["5022", "pending", null],
    ]);
    // Due again in the next pass, not a lease (a minute) later.
    expect(await oneLane.runOnce()).toBe(1);
    expect(await oneLane.drain()).toBe(1);
    expect(sandbox.orders().map((request) => request.orderId).sort()).toEqual(["5020", "5021", "5022"]);
  });

  it("never writes the secret key to logs or stored attempt excerpts", async () => {
    const secret = "sec_echoing_secret_key_123";
    sandbox.addKeys({ publicKey: "pub_echo", secretKey: secret });
    await configureShop(SHOP, { publicKey: "pub_echo", secretKey: secret });
    sandbox.setBehavior({ mode: "fail", status: 500, remaining: 1 }, "order");
    await enqueueFixtureOrder(SHOP, 5008);
    await worker().drain();
    advance(3_600_000);
    await worker().drain();

    const attempts = await prisma.deliveryAttempt.findMany();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const stored = JSON.stringify(await prisma.delivery.findMany()) + JSON.stringify(attempts);
    expect(stored).not.toContain(secret);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(secret);
    expect(JSON.stringify(sandbox.received)).not.toContain(secret);
  });

  it("redacts the secret key even when an endpoint echoes the request headers back", async () => {
    const secret = "sec_reflected_secret_key_456";
    await configureShop(SHOP, { publicKey: "pub_reflect", secretKey: secret });
    const echo = http.createServer((request, response) => {
      response.writeHead(500, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ error: "echo", headers: request.headers }));
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/tracker/orders/paid`;
    try {
      await enqueueFixtureOrder(SHOP, 5009);
      const echoing = createConfiguredWorker({
        now: () => clock,
        config: { webhookUrl: url, apiUrl: url, timeoutMs: 5_000, retryBaseMs: 30_000, leaseMs: 60_000, concurrency: 1, pollMs: 50 },
      });
      await echoing.drain();
    } finally {
      echo.close();
    }
    const [attempt] = (await deliveryOf(SHOP, "5009")).deliveryAttempts;
    expect(attempt.responseExcerpt).toContain("pub_reflect");
    expect(attempt.responseExcerpt).toContain("[redacted]");
    expect(attempt.responseExcerpt).not.toContain(secret);
    expect(logLines.join("\n")).not.toContain(secret);
  });
});
