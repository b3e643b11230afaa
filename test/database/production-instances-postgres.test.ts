/**
 * Two production builds (`npm start`'s server with the delivery worker inside) sharing one PostgreSQL
 * database, as several instances run in production (docs/deployment.md):
 *  - signed orders/create webhooks sent alternately to the two, some orders to both at once,
 *    while the Refersion stand-in fails a fifth of order posts: one row per order, every order
 *    accepted by Refersion exactly once, every request recorded as one attempt, and both
 *    instances delivering;
 *  - one instance killed with SIGKILL while it holds leased rows with requests in flight: the
 *    other takes them over once the leases have expired, and every order ends delivered once on
 *    our side and accepted at least once by Refersion (docs/reliability.md, "Where the crash
 *    falls"; test/reliability/crash-mid-delivery.test.ts is the one-process version).
 */
import type { Delivery, DeliveryAttempt, PrismaClient } from "@prisma/client";
import { mapOrderToConversion } from "~/refersion/mapping";
import {
  DEFAULT_SANDBOX_KEYS,
  startRefersionSandbox,
  type ReceivedRequest,
  type RefersionSandbox,
} from "../../scripts/refersion-sandbox";
import { shopCli } from "../support/cli";
import { orderFixture, orderFixtureNames } from "../support/fixtures";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";
import { openProvider, type ProviderHarness } from "./providers";

const SHOP = "instances-pg.myshopify.com";
/** Webhooks in flight at once: enough to keep both servers busy without queueing for seconds. */
const SENDERS = 12;
/** Each instance's lanes; the kill case relies on it (see there). */
const CONCURRENCY = 8;

let harness: ProviderHarness;
let sandbox: RefersionSandbox;
let fixtures: { name: string; order: Record<string, unknown> }[];
const apps: ProductionApp[] = [];

type RowWithAttempts = Delivery & { deliveryAttempts: DeliveryAttempt[] };

interface Reply {
  orderId: string;
  to: string;
  status: number;
  error?: string;
}

/** A fixture as another order: its own id (which is Refersion's order_id) and name. */
function orderPayload(order: Record<string, unknown>, id: number): Record<string, unknown> {
  return { ...order, id, admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${id}` };
}

/** The fixtures that become a delivery to Refersion under the settings this file saves. */
function deliverableFixtures() {
  return orderFixtureNames()
    .map((name) => ({ name, order: orderFixture(name) }))
    .filter(({ order }) => {
      const mapped = mapOrderToConversion(JSON.parse(JSON.stringify(orderPayload(order, 4242))), {
        shop: SHOP,
        currency: "shop",
        includeCustomer: true,
        autoCreditAffiliate: false,
        cartIdSecret: TEST_ENV.SHOPIFY_API_SECRET,
      });
      return mapped.ok && !mapped.summary.zeroValue && mapped.conversion.order_id === "4242";
    });
}

/** A fresh migrated database with the shop's keys saved, through the operator CLI. */
async function configuredDatabase(): Promise<string> {
  const url = await harness.freshDatabase();
  await shopCli(
    ["configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"],
    url,
    { REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey },
  );
  return url;
}

async function startInstance(databaseUrl: string, env: Record<string, string> = {}): Promise<ProductionApp> {
  const app = await startProductionApp({
    DATABASE_URL: databaseUrl,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    ...env,
  });
  apps.push(app);
  return app;
}

async function post(app: ProductionApp, to: string, orderId: string, body: string, webhookId: string): Promise<Reply> {
  try {
    const response = await fetch(`${app.url}/webhooks/orders/create`, {
      method: "POST",
      headers: webhookHeaders({ topic: "orders/create", shop: SHOP, body, secret: TEST_ENV.SHOPIFY_API_SECRET, webhookId }),
      body,
      signal: AbortSignal.timeout(60_000),
    });
    await response.arrayBuffer();
    return { orderId, to, status: response.status };
  } catch (error) {
    return { orderId, to, status: -1, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Runs the jobs with at most `limit` in flight. */
async function bounded<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await jobs[index]();
      }
    }),
  );
  return results;
}

interface LogEntry {
  level?: string;
  msg?: string;
  worker?: string;
  orderId?: string;
  outcome?: string;
}

/** The server's JSON log lines (anything else it printed is left out). */
function logOf(app: ProductionApp): LogEntry[] {
  return app.output().flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as LogEntry];
    } catch {
      return [];
    }
  });
}

function deliveredBy(app: ProductionApp): Set<string> {
  return new Set(
    logOf(app)
      .filter((entry) => entry.msg === "delivery attempt" && entry.outcome === "delivered")
      .map((entry) => entry.orderId!),
  );
}

function errorsOf(app: ProductionApp): LogEntry[] {
  return logOf(app).filter((entry) => entry.level === "error");
}

function workerOf(app: ProductionApp): string {
  const started = logOf(app).find((entry) => entry.msg === "delivery worker started");
  if (!started?.worker) throw new Error(`No "delivery worker started" line in the output:\n${app.output().join("\n")}`);
  return started.worker;
}

function countBy(values: (string | null)[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function allRows(prisma: PrismaClient): Promise<RowWithAttempts[]> {
  return prisma.delivery.findMany({
    where: { shop: SHOP },
    include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } },
  });
}

/** Waits until `count` rows are delivered; on timeout says where every row stands. */
async function waitForDelivered(prisma: PrismaClient, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await prisma.delivery.count({ where: { shop: SHOP, status: "delivered" } })) === count) return;
    if (Date.now() > deadline) {
      const statuses = await prisma.delivery.groupBy({ by: ["status"], _count: { _all: true } });
      const tails = apps.map((app) => app.output().slice(-20).join("\n")).join("\n---\n");
      throw new Error(
        `Not all ${count} orders were delivered within ${timeoutMs} ms: ` +
          `${JSON.stringify(statuses.map((row) => [row.status, row._count._all]))}\n${tails}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What a row looks like in a failure message (rows themselves are too long to read). */
function summary(row: RowWithAttempts) {
  return {
    orderId: row.orderId,
    status: row.status,
    attempts: row.attempts,
    leaseOwner: row.leaseOwner,
    outcomes: row.deliveryAttempts.map((attempt) => attempt.outcome),
  };
}

beforeAll(async () => {
  harness = await openProvider("postgresql");
  sandbox = await startRefersionSandbox({ recordBodies: false });
  fixtures = deliverableFixtures();
  expect(fixtures.length).toBeGreaterThanOrEqual(3);
}, 180_000);

// No server may outlive its case: it would go on delivering from the other case's database.
afterEach(async () => {
  for (const app of apps.splice(0)) await app.kill("SIGKILL");
});

afterAll(async () => {
  await sandbox?.close();
  await harness?.close();
});

describe("two production instances on one PostgreSQL database", () => {
  const ORDERS = 1_000;

  it(`delivers each of ${ORDERS} orders sent alternately to both exactly once, with retries and duplicate webhooks`, async () => {
    const url = await configuredDatabase();
    const prisma = harness.client(url);
    sandbox.reset();
    sandbox.setBehavior({ mode: "flaky", failRate: 0.2, status: 500, seed: 4242 }, "order");
    const [a, b] = await Promise.all([startInstance(url), startInstance(url)]);
    const instances: Record<string, ProductionApp> = { a, b };

    const ids = Array.from({ length: ORDERS }, (_, index) => String(7_100_000_000 + index));
    const primaryOf = (index: number) => (index % 2 === 0 ? "a" : "b");
    // One order in ten goes to both instances at the same moment, as Shopify's re-sends can
    // land on different instances: only the database's unique key can keep it to one row.
    const duplicated = new Set(ids.filter((_, index) => index % 20 === 0 || index % 20 === 15));
    const replies = (
      await bounded(
        ids.map((orderId, index) => () => {
          const body = JSON.stringify(orderPayload(fixtures[index % fixtures.length].order, Number(orderId)));
          const targets = duplicated.has(orderId) ? ["a", "b"] : [primaryOf(index)];
          return Promise.all(targets.map((to) => post(instances[to], to, orderId, body, `wh-${orderId}-${to}`)));
        }),
        SENDERS,
      )
    ).flat();
    expect(replies).toHaveLength(ORDERS + duplicated.size);
    expect(replies.filter((reply) => reply.status !== 200)).toEqual([]);

    await waitForDelivered(prisma, ORDERS, 180_000);

    // Our side: one row per order, delivered and released, recorded by the instance it was sent
    // to (its webhook id says which); a duplicated order by either, once.
    const rows = await allRows(prisma);
    expect(rows).toHaveLength(ORDERS);
    expect(new Set(rows.map((row) => row.orderId))).toEqual(new Set(ids));
    expect(rows.filter((row) => row.status !== "delivered" || row.leaseOwner !== null).map(summary)).toEqual([]);
    const primaries = new Map(ids.map((orderId, index) => [orderId, primaryOf(index)]));
    expect(
      rows
        .filter((row) => !duplicated.has(row.orderId) && row.webhookId !== `wh-${row.orderId}-${primaries.get(row.orderId)}`)
        .map((row) => [row.orderId, row.webhookId]),
    ).toEqual([]);
    expect(
      rows.filter((row) => duplicated.has(row.orderId) && !/^wh-\d+-(a|b)$/.test(row.webhookId ?? "")).map((row) => row.webhookId),
    ).toEqual([]);

    // Refersion's side: every order accepted exactly once, nothing else accepted.
    const accepted = countBy(sandbox.orders().map((request) => request.orderId));
    expect(new Set(accepted.keys())).toEqual(new Set(ids));
    expect([...accepted].filter(([, times]) => times !== 1)).toEqual([]);

    // The failures were the stand-in's, and each request made is one recorded attempt: as many
    // requests per order as attempts, the last one delivered.
    const requests = sandbox.received.filter((request) => request.endpoint === "order");
    const failures = requests.filter((request) => !request.accepted);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.filter((request) => request.mode !== "flaky" || request.status !== 500)).toEqual([]);
    const requestsPerOrder = countBy(requests.map((request) => request.orderId));
    expect(
      rows
        .filter(
          (row) =>
            row.attempts !== row.deliveryAttempts.length ||
            row.attempts !== requestsPerOrder.get(row.orderId) ||
            row.deliveryAttempts.filter((attempt) => attempt.outcome === "delivered").length !== 1 ||
            row.deliveryAttempts.at(-1)?.outcome !== "delivered" ||
            row.deliveryAttempts.some((attempt) => attempt.outcome === "permanent"),
        )
        .map((row) => ({ ...summary(row), requests: requestsPerOrder.get(row.orderId) })),
    ).toEqual([]);
    expect(rows.filter((row) => row.attempts > 1).length).toBeGreaterThan(0);

    // Both instances delivered, never the same order.
    const byA = deliveredBy(a);
    const byB = deliveredBy(b);
    expect(byA.size).toBeGreaterThan(0);
    expect(byB.size).toBeGreaterThan(0);
    expect([...byA].filter((orderId) => byB.has(orderId))).toEqual([]);
    expect([...errorsOf(a), ...errorsOf(b)]).toEqual([]);
  }, 300_000);

  const KILL_ORDERS = 500;
  // Refersion answers after SLOW_MS, so every instance always has requests in flight. The
  // timeout is well above it (a timed-out request would be a second send of its own), and the
  // lease outlasts a pass: a pass's rows all start within LEASE_MS - TIMEOUT_MS (the worker's
  // rule), so no lease runs out under a live instance and only the killed one leaves rows behind.
  const SLOW_MS = 400;
  const TIMEOUT_MS = 4_000;
  const LEASE_MS = 6_000;

  it("delivers everything through the survivor when one is killed holding requests in flight; Refersion gets each order at least once", async () => {
    const url = await configuredDatabase();
    const prisma = harness.client(url);
    sandbox.reset();
    sandbox.setBehavior({ mode: "slow", delayMs: SLOW_MS }, "order");
    const env = { DELIVERY_LEASE_MS: String(LEASE_MS), REFERSION_TIMEOUT_MS: String(TIMEOUT_MS) };
    const [doomed, survivor] = await Promise.all([startInstance(url, env), startInstance(url, env)]);

    const ids = Array.from({ length: KILL_ORDERS }, (_, index) => String(7_200_000_000 + index));
    const replies = await bounded(
      ids.map((orderId, index) => () => {
        const body = JSON.stringify(orderPayload(fixtures[index % fixtures.length].order, Number(orderId)));
        const [app, to] = index % 2 === 0 ? [doomed, "doomed"] : [survivor, "survivor"];
        return post(app, to, orderId, body, `wh-${orderId}`);
      }),
      SENDERS,
    );
    expect(replies.filter((reply) => reply.status !== 200)).toEqual([]);

    const doomedOwner = workerOf(doomed);
    const deadline = Date.now() + 60_000;
    while (deliveredBy(doomed).size === 0) {
      if (Date.now() > deadline) throw new Error(`The doomed instance delivered nothing:\n${doomed.output().slice(-30).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Requests the stand-in holds and their senders still wait for (younger than the timeout).
    const inFlight = (received: ReceivedRequest[]) =>
      received.filter(
        (request) => request.endpoint === "order" && request.status === 0 && Date.now() - Date.parse(request.at) < TIMEOUT_MS - 1_000,
      );
    // More requests in flight than one instance has lanes: at least one is the doomed one's.
    await sandbox.waitFor((received) => inFlight(received).length > CONCURRENCY, 60_000);
    // The stand-in runs in this process, so nothing is answered between this snapshot and the
    // signal: it is what the stand-in held when the instance died.
    const heldAtKill = inFlight(sandbox.received).map((request) => ({ id: request.id, orderId: request.orderId! }));
    await doomed.kill("SIGKILL");

    // What the dead instance held: rows leased to it and never recorded. They stay leased until
    // the lease runs out; nothing else may take them before.
    const orphans = new Map(
      (
        await prisma.delivery.findMany({
          where: { shop: SHOP, leaseOwner: doomedOwner, status: { not: "delivered" } },
          select: { orderId: true, leaseUntil: true },
        })
      ).map((row) => [row.orderId, row.leaseUntil!]),
    );
    expect(orphans.size).toBeGreaterThan(0);
    const killedInFlight = heldAtKill.filter((request) => orphans.has(request.orderId));
    expect(killedInFlight.length).toBeGreaterThan(0);

    await waitForDelivered(prisma, KILL_ORDERS, 150_000);

    // Our side: exactly one delivered row per order; an attempt counts only once recorded, so
    // the killed ones left no trace, and each order has one delivered attempt.
    const rows = await allRows(prisma);
    expect(rows).toHaveLength(KILL_ORDERS);
    expect(new Set(rows.map((row) => row.orderId))).toEqual(new Set(ids));
    expect(
      rows
        .filter(
          (row) =>
            row.status !== "delivered" ||
            row.leaseOwner !== null ||
            row.attempts !== row.deliveryAttempts.length ||
            row.deliveryAttempts.filter((attempt) => attempt.outcome === "delivered").length !== 1 ||
            row.deliveryAttempts.some((attempt) => attempt.outcome === "permanent"),
        )
        .map(summary),
    ).toEqual([]);
    // The survivor took the dead instance's rows over only once their leases had expired.
    const byOrder = new Map(rows.map((row) => [row.orderId, row]));
    expect(
      [...orphans]
        .filter(([orderId, leaseUntil]) => {
          const row = byOrder.get(orderId)!;
          const delivered = row.deliveryAttempts.find((attempt) => attempt.outcome === "delivered")!;
          return delivered.startedAt < leaseUntil || row.deliveredAt! < leaseUntil;
        })
        .map(([orderId, leaseUntil]) => ({ ...summary(byOrder.get(orderId)!), leaseUntil })),
    ).toEqual([]);
    expect([...orphans.keys()].some((orderId) => deliveredBy(survivor).has(orderId))).toBe(true);

    // Refersion's side: every order accepted at least once. Only an order the dead instance held
    // may have been accepted twice: Refersion's answer to it was sent (before the kill, or as it
    // died) but never recorded, so the survivor sent it again. That is the at-least-once window
    // of docs/reliability.md; Refersion has no idempotency key to close it.
    const accepted = countBy(sandbox.orders().map((request) => request.orderId));
    expect(new Set(accepted.keys())).toEqual(new Set(ids));
    expect([...accepted].filter(([orderId, times]) => times !== 1 && !(times === 2 && orphans.has(orderId!)))).toEqual([]);

    // The requests in flight at the kill reached the stand-in, and the instance died before it
    // could record any answer. When its delay ends the stand-in checks whether the client is
    // still connected: if it has seen the connection close, it neither answers nor accepts
    // (status 0) and the survivor's send is the only acceptance. But a killed process's sockets
    // close only once the kernel has torn the process down, which took from under 200 ms to
    // over SLOW_MS on this loaded machine; a delay that ends first gets the order accepted with
    // nobody left to record it, and the survivor's send is a second acceptance. Both are the
    // same crash, timing picks one, so each request is held to exactly one of the two.
    const entries = new Map(sandbox.received.map((request) => [request.id, request]));
    expect(
      killedInFlight
        .map(({ id, orderId }) => {
          const request = entries.get(id)!;
          return { orderId, status: request.status, accepted: request.accepted, acceptedTimes: accepted.get(orderId) };
        })
        .filter(
          ({ status, accepted: wasAccepted, acceptedTimes }) =>
            !(status === 0 && !wasAccepted && acceptedTimes === 1) && !(status === 200 && wasAccepted && acceptedTimes === 2),
        ),
    ).toEqual([]);
    // And only the dead instance's requests went unanswered: those above, and those it had sent
    // but the stand-in had not read yet when the snapshot was taken (they appear after it).
    expect(
      sandbox.received.filter((request) => request.endpoint === "order" && !request.accepted && !orphans.has(request.orderId!)),
    ).toEqual([]);
    expect(errorsOf(survivor)).toEqual([]);
  }, 300_000);
});
