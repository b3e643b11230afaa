/**
 * The production build killed with SIGKILL while a delivery is in flight, then started again on
 * the same database: the order ends delivered, with one Delivery row and one recorded attempt.
 * What Refersion sees depends on where the crash fell (see docs/reliability.md):
 *  - before Refersion answered (it is slow): the abandoned request is never answered, and the
 *    stand-in does not count it; Refersion accepts the order once, from the new process;
 *  - after Refersion accepted but before we recorded it: Refersion gets the order again, which
 *    is the at-least-once window this design cannot close (Refersion has no idempotency key).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import prisma from "~/db.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { orderFixtureText } from "../support/fixtures";
import { configureShop, deliveryOf, DOCS_ORDER } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { eventually, sendWebhook } from "../security/http";

const SHOP = "crash-test.myshopify.com";
// The lease outlasts the request timeout, as the app requires; the kill lands long before either.
const LEASE_MS = 6_000;
const TIMEOUT_MS = 5_000;
const SLOW_MS = 5_000;
// Long enough that the kill always lands before the held answer, even on a loaded machine.
const HELD_ANSWER_MS = 30_000;

let sandbox: RefersionSandbox;
const apps: ProductionApp[] = [];

function start(webhookUrl: string) {
  return startProductionApp({
    DATABASE_URL: process.env.DATABASE_URL!,
    REFERSION_WEBHOOK_URL: webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_LEASE_MS: String(LEASE_MS),
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
    REFERSION_TIMEOUT_MS: String(TIMEOUT_MS),
  }).then((app) => {
    apps.push(app);
    return app;
  });
}

function orderBody(orderId: number): string {
  const order = JSON.parse(orderFixtureText(DOCS_ORDER)) as Record<string, unknown>;
  return JSON.stringify({ ...order, id: orderId, admin_graphql_api_id: `gid://shopify/Order/${orderId}`, name: `#${orderId}` });
}

async function deliveredRow(orderId: string) {
  return eventually(
    async () => {
      const row = await deliveryOf(SHOP, orderId);
      return row.status === "delivered" ? row : undefined;
    },
    20_000,
    `order ${orderId} to be delivered`,
  );
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
});
// Each case starts its own processes on the shared database: none may outlive its case, or it
// would deliver the next case's order by another route.
afterEach(async () => {
  for (const app of apps.splice(0)) await app.kill("SIGKILL");
});

afterAll(async () => {
  await sandbox?.close();
});

describe("a process killed in the middle of a delivery", () => {
  it("before Refersion answered: the new process delivers it; Refersion accepts it once", async () => {
    sandbox.reset();
    sandbox.setBehavior({ mode: "slow", delayMs: SLOW_MS }, "order");
    const first = await start(sandbox.webhookUrl);
    expect((await sendWebhook(first.url, { topic: "orders/create", shop: SHOP, body: orderBody(7301) })).status).toBe(200);

    // In flight: the stand-in holds the request, our row is leased by the first process.
    await sandbox.waitFor((received) => received.some((request) => request.orderId === "7301"), 10_000);
    const held = await deliveryOf(SHOP, "7301");
    expect(held).toMatchObject({ status: "pending", attempts: 0 });
    expect(held.leaseOwner).not.toBeNull();
    await first.kill("SIGKILL");
    sandbox.setBehavior({ mode: "ok" });
    const second = await start(sandbox.webhookUrl);

    const row = await deliveredRow("7301");
    // Taken over only once the dead process's lease had expired.
    expect(row.deliveredAt!.getTime()).toBeGreaterThanOrEqual(held.leaseUntil!.getTime());
    expect(row).toMatchObject({ attempts: 1, lastStatusCode: 200, leaseOwner: null });
    expect(row.deliveryAttempts.map((attempt) => attempt.outcome)).toEqual(["delivered"]);
    expect(await prisma.delivery.count({ where: { shop: SHOP, orderId: "7301" } })).toBe(1);

    // Let the abandoned request's delay run out: the stand-in never answers nor accepts it.
    await sandbox.waitFor((received) => received.every((request) => request.settled), SLOW_MS + 10_000);
    const requests = sandbox.received.filter((request) => request.orderId === "7301");
    expect(requests.map((request) => [request.mode, request.status, request.accepted])).toEqual([
      ["slow", 0, false],
      ["ok", 200, true],
    ]);
    expect(sandbox.orders().map((request) => request.orderId)).toEqual(["7301"]);
    expect(second.output().join("\n")).toMatch(/"msg":"delivery attempt".*"orderId":"7301".*"outcome":"delivered"/);
  }, 120_000);

  it("after Refersion accepted but before it was recorded: delivered once on our side, twice at Refersion (at-least-once)", async () => {
    sandbox.reset();
    // Refersion accepts at once, but its answer takes HELD_ANSWER_MS to come back.
    let holdAnswers = true;
    const relay = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        const upstream = await fetch(sandbox.webhookUrl, {
          method: "POST",
          headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => name.startsWith("refersion-") || name === "content-type")) as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        const text = await upstream.text();
        if (holdAnswers) await new Promise((resolve) => setTimeout(resolve, HELD_ANSWER_MS).unref());
        if (!res.destroyed) {
          res.writeHead(upstream.status, { "Content-Type": "application/json" });
          res.end(text);
        }
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/tracker/orders/paid`;
    try {
      const first = await start(relayUrl);
      expect((await sendWebhook(first.url, { topic: "orders/create", shop: SHOP, body: orderBody(7302) })).status).toBe(200);
      await sandbox.waitFor((received) => received.some((request) => request.orderId === "7302" && request.accepted), 10_000);
      await first.kill("SIGKILL");
      expect(await deliveryOf(SHOP, "7302")).toMatchObject({ status: "pending", attempts: 0 });

      holdAnswers = false;
      await start(relayUrl);
      const row = await deliveredRow("7302");
      expect(row).toMatchObject({ attempts: 1, lastStatusCode: 200 });
      expect(row.deliveryAttempts).toHaveLength(1);
      expect(await prisma.delivery.count({ where: { shop: SHOP, orderId: "7302" } })).toBe(1);
      // The documented window: the order reached Refersion twice, once from each process.
      const accepted = sandbox.orders().map((request) => request.orderId);
      expect(accepted).toHaveLength(2);
      expect(new Set(accepted)).toEqual(new Set(["7302"]));
    } finally {
      relay.closeAllConnections();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  }, 120_000);
});
