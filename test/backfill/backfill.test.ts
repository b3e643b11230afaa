import { describeReason } from "~/admin/delivery-reasons";
import { startShopifyAdminStandin, type Operation } from "../../scripts/shopify-admin-standin";
import { accessTokenFor, storeOfflineSession } from "../support/admin-session";
import { pastOrders } from "../support/past-orders";
import { TEST_ENV } from "../support/test-env";

// The network boundary first: the app's fetch for *.myshopify.com goes to the stand-in, and must
// be rerouted before Shopify's library (imported by the app modules below) captures fetch.
const standin = await startShopifyAdminStandin({ appEnv: TEST_ENV });
process.env.SHOPIFY_ADMIN_STANDIN_URL = standin.url;
await import("../../scripts/shopify-admin-fetch-preload.mjs");
const { default: prisma } = await import("~/db.server");
const { createConfiguredBackfillRunner } = await import("~/background/background-work.server");
const { startBackfill, latestBackfillJob, progressOf } = await import("~/backfill/backfill.server");
const { configureLifecycleShop, refundPayload, sendWebhook } = await import("../support/order-lifecycle");

const SHOP = "past-orders.myshopify.com";
const RANGE = { since: new Date("2026-11-01T00:00:00.000Z"), until: new Date("2026-11-10T23:59:59.999Z") };

function runner() {
  return createConfiguredBackfillRunner({ pollMs: 20, retryDelayMs: 50 });
}

async function install(orders: ReturnType<typeof pastOrders>, extra: { protectedCustomerData?: boolean } = {}) {
  standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: orders.map((order) => order.graphql), ...extra });
  await storeOfflineSession(SHOP);
}

const requestsOf = (operation: Operation) => standin.requests.filter((request) => request.operation === operation);

afterAll(() => standin.close());
beforeEach(async () => {
  standin.requests.length = 0;
  standin.setBucket({ maximumAvailable: 1_000, restoreRate: 8_000, throttleEvery: 0, orderDelayMs: 0 });
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.backfillJob.deleteMany();
  await prisma.session.deleteMany();
  await prisma.shopSettings.deleteMany();
  await configureLifecycleShop(SHOP);
});
afterEach(() => {
  expect(standin.unexpected()).toEqual([]);
});

describe("resending past orders", () => {
  it("GIVEN 120 orders in the range over three pages, three of them already received THEN each order is recorded once, within the rate limit", async () => {
    const inRange = pastOrders(120, { start: "2026-11-01T06:00:00Z", firstId: 9_000_000 });
    const outside = [...pastOrders(2, { start: "2026-10-30T00:00:00Z", firstId: 9_500_000 }), ...pastOrders(2, { start: "2026-11-11T00:00:01Z", firstId: 9_600_000 })];
    await install([...inRange, ...outside]);
    for (const order of inRange.slice(0, 3)) await sendWebhook(SHOP, "orders/create", order.rest);
    // Every 7th request is throttled whatever the bucket holds.
    standin.setBucket({ throttleEvery: 7 });

    const { job } = await startBackfill(SHOP, RANGE);
    expect(await runner().runOnce()).toEqual({ jobId: job.id, outcome: "done" });

    const saved = progressOf((await latestBackfillJob(SHOP))!);
    expect(saved).toMatchObject({ status: "done", processed: 120, enqueued: 117, total: 120, percent: 100, error: null });
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP } });
    expect(rows.map((row) => row.orderId).sort()).toEqual(inRange.map((order) => String(order.rest.id)).sort());
    expect(rows.filter((row) => row.webhookId === null)).toHaveLength(117);
    expect(new Set(rows.map((row) => row.status))).toEqual(new Set(["pending"]));

    // Pages follow each other's cursors.
    expect(requestsOf("orders").filter((r) => r.throttled === "no").map((r) => r.variables.after ?? null)).toEqual([
      null,
      expect.any(String),
      expect.any(String),
    ]);
    // The rate limit: the client never asked for more than the bucket held (it waited for it to
    // refill), and after each THROTTLED answer it waited at least as long as the answer implied.
    const throttled = standin.requests.filter((r) => r.throttled !== "no");
    expect(throttled.filter((r) => r.throttled === "bucket")).toEqual([]);
    expect(throttled.length).toBeGreaterThanOrEqual(15);
    for (const request of throttled) {
      const next = standin.requests[standin.requests.indexOf(request) + 1];
      expect(next.at - request.at).toBeGreaterThanOrEqual(request.impliedWaitMs - 5);
    }
    // Order reads cost far more than the bucket refills between them: without waiting, most
    // would have been throttled. None was, because the client paced itself.
    const orderReads = requestsOf("order").filter((r) => r.throttled === "no");
    expect(orderReads.length).toBe(124 - 4);
    expect(orderReads.every((r) => r.availableBefore >= r.requestedCost)).toBe(true);
  }, 60_000);

  it("GIVEN the runner is stopped mid-way THEN another one goes on from the saved page, and every order is recorded once", async () => {
    const orders = pastOrders(110, { start: "2026-11-01T06:00:00Z", firstId: 9_100_000 });
    await install(orders);
    standin.setBucket({ orderDelayMs: 5, restoreRate: 100_000 });
    const { job } = await startBackfill(SHOP, RANGE);

    const first = runner();
    const running = first.runOnce();
    // Stop once the second page is being read.
    await until(() => requestsOf("order").length >= 70);
    await first.stop();
    expect(await running).toEqual({ jobId: job.id, outcome: "paused" });
    const paused = (await latestBackfillJob(SHOP))!;
    // Stopped mid-page: only whole pages count, the next runner reads that page again.
    expect(paused).toMatchObject({ status: "running", processed: 50, pageProcessed: 0, enqueued: 50, leaseOwner: null });
    expect(paused.cursor).not.toBeNull();

    const pagesBefore = requestsOf("orders").length;
    expect(await runner().runOnce()).toEqual({ jobId: job.id, outcome: "done" });
    // The second runner started from the saved cursor, not from the beginning.
    expect(requestsOf("orders")[pagesBefore].variables.after).toBe(paused.cursor);
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ status: "done", processed: 110, enqueued: 110, total: 110 });
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(110);
  }, 60_000);

  it("GIVEN a page being read THEN the job's progress counts its orders one by one, and only whole pages once saved", async () => {
    const orders = pastOrders(30, { start: "2026-11-01T06:00:00Z", firstId: 9_150_000 });
    await install(orders);
    standin.setBucket({ orderDelayMs: 20, restoreRate: 100_000 });
    const { job } = await startBackfill(SHOP, RANGE);
    const running = runner().runOnce();
    // Within the one page of 30 orders, the row's progress moves before the page is saved.
    await until(async () => ((await latestBackfillJob(SHOP))?.pageProcessed ?? 0) >= 5);
    const midway = (await latestBackfillJob(SHOP))!;
    expect(midway).toMatchObject({ status: "running", processed: 0 });
    expect(midway.pageProcessed).toBeLessThan(30);
    const shown = progressOf(midway);
    expect(shown.processed).toBe(midway.pageProcessed);
    expect(shown.percent).toBe(Math.floor((midway.pageProcessed / 30) * 100));

    expect(await running).toEqual({ jobId: job.id, outcome: "done" });
    const done = (await latestBackfillJob(SHOP))!;
    expect(done).toMatchObject({ status: "done", processed: 30, pageProcessed: 0 });
    expect(progressOf(done)).toMatchObject({ processed: 30, percent: 100 });
  }, 60_000);

  it("GIVEN an order with 120 lines THEN its lines are read over several requests and all of them are sent", async () => {
    const [order] = pastOrders(1, { start: "2026-11-02T00:00:00Z", firstId: 9_200_000 });
    const template = order.graphql.lineItems.nodes[0];
    order.graphql.lineItems.nodes = Array.from({ length: 120 }, (_, index) => ({ ...template, id: `gid://shopify/LineItem/${7_000_000 + index}`, sku: `LINE-${index}` }));
    await install([order]);
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");

    expect(requestsOf("order").map((r) => r.variables.linesAfter ?? null)).toEqual([null, expect.any(String), expect.any(String)]);
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP } });
    expect(JSON.parse(row.requestBody!).items.map((item: { sku: string }) => item.sku)).toEqual(Array.from({ length: 120 }, (_, index) => `LINE-${index}`));
  });

  it('GIVEN the "paid" trigger THEN past orders not yet paid wait for their payment and paid ones are queued', async () => {
    await configureLifecycleShop(SHOP, { forwardTrigger: "paid" });
    const orders = [
      ...pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_300_000, financialStatus: "pending" }),
      ...pastOrders(2, { start: "2026-11-03T00:00:00Z", firstId: 9_300_100, financialStatus: "partially_refunded" }),
    ];
    await install(orders);
    await startBackfill(SHOP, RANGE);
    await runner().runOnce();
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: { orderId: "asc" } });
    expect(rows.map((row) => row.status)).toEqual(["waiting_for_payment", "waiting_for_payment", "pending", "pending"]);
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ processed: 4, enqueued: 4 });
  });

  it("GIVEN past orders already cancelled, refunded, or partly refunded THEN only what is still credited is sent: the partly refunded order with its refund reversed", async () => {
    const [cancelled, refunded, partly] = [
      { financialStatus: "paid", cancelled: true },
      { financialStatus: "refunded", cancelled: false },
      { financialStatus: "partially_refunded", cancelled: false },
    ].map(({ financialStatus, cancelled }, index) => {
      const [order] = pastOrders(1, { start: `2026-11-0${index + 2}T00:00:00Z`, firstId: 9_450_000 + index, financialStatus });
      if (cancelled) order.graphql.cancelledAt = "2026-11-05T00:00:00Z";
      return order;
    });
    // The partly refunded one is the docs order, with the refund Shopify's docs show for it.
    const docs = (await import("../support/fixtures")).orderFixture("shopify-docs-order-1001-2026-07.json");
    const { graphqlOrderOf } = await import("../support/past-orders");
    partly.graphql = graphqlOrderOf({ ...docs, id: 9_450_002, admin_graphql_api_id: "gid://shopify/Order/9450002", created_at: "2026-11-04T00:00:00Z", financial_status: "partially_refunded", test: false }, "9450002");
    await install([cancelled, refunded, partly]);
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");

    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: [{ orderId: "asc" }, { kind: "asc" }] });
    expect(rows.map((row) => [row.orderId, row.kind, row.status, row.reasonCode, describeReason(row.reasonCode, row.reasonDetail)])).toEqual([
      ["9450000", "order", "skipped", "cancelled_before_resend", "The order was cancelled in Shopify before it was resent"],
      ["9450001", "order", "skipped", "refunded_before_resend", "The order was refunded in full before it was resent"],
      ["9450002", "order", "pending", null, null],
      ["9450002", "refund:509562969", "pending", null, null],
    ]);
    expect(JSON.parse(rows[3].requestBody!)).toEqual({
      order_id: "9450002",
      items: [
        { sku: "IPOD2008BLACK", quantity: 1, price: 199 },
        { sku: "IPOD2008GREEN", quantity: 1, price: 199 },
      ],
    });
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ processed: 3, enqueued: 1 });
  });

  it("GIVEN orders the app holds as failed or skipped THEN a resend queues again, once, those whose reason no longer holds, and leaves the rest", async () => {
    const [failed, forwardingWasOff, cancelledFirst, delivered, refundedFirst] = pastOrders(5, { start: "2026-11-02T00:00:00Z", firstId: 9_700_000 });
    await configureLifecycleShop(SHOP, { forwardingEnabled: false });
    await sendWebhook(SHOP, "orders/create", forwardingWasOff.rest);
    await configureLifecycleShop(SHOP);
    await sendWebhook(SHOP, "orders/create", failed.rest);
    await sendWebhook(SHOP, "orders/create", delivered.rest);
    await prisma.delivery.updateMany({ where: { orderId: String(failed.rest.id) }, data: { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "Refersion answered 400" } });
    await prisma.delivery.updateMany({ where: { orderId: String(delivered.rest.id) }, data: { status: "delivered" } });
    await sendWebhook(SHOP, "orders/cancelled", cancelledFirst.rest);
    // A refund whose order the app never received: planned once the resend records the order.
    await sendWebhook(SHOP, "refunds/create", refundPayload(refundedFirst.rest, 9_799_001, [{ index: 0, quantity: 1 }]));
    await install([failed, forwardingWasOff, cancelledFirst, delivered, refundedFirst]);

    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");
    const statuses = async () =>
      (await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: [{ orderId: "asc" }, { kind: "asc" }] })).map((row) => [row.orderId, row.kind, row.status]);
    const expected = [
      ["9700000", "order", "pending"],
      ["9700001", "order", "pending"],
      ["9700002", "order", "skipped"],
      ["9700003", "order", "delivered"],
      ["9700004", "order", "pending"],
      ["9700004", "refund:9799001", "pending"],
    ];
    expect(await statuses()).toEqual(expected);
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ processed: 5, enqueued: 3 });

    // A second resend finds nothing left to queue.
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");
    expect(await statuses()).toEqual(expected);
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ processed: 5, enqueued: 0 });
  });

  it("GIVEN the app may not read protected customer data THEN past orders are read, and sent, without the buyer's details", async () => {
    await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_400_000 }), { protectedCustomerData: false });
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP } });
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(JSON.parse(row.requestBody!)).not.toHaveProperty("customer");
    // Asked once with the details, refused, then never again.
    expect(requestsOf("order").map((r) => r.personalData)).toEqual([true, false, false]);
  });

  it("GIVEN the shop has no stored offline session THEN the job fails and says why", async () => {
    standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: [] });
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("failed");
    const job = progressOf((await latestBackfillJob(SHOP))!);
    expect(job.status).toBe("failed");
    expect(job.error).toMatch(/no access token/);
  });

  it("GIVEN a job is queued or running THEN starting again returns that job instead of a second one", async () => {
    const first = await startBackfill(SHOP, RANGE);
    const second = await startBackfill(SHOP, { since: new Date("2026-10-01T00:00:00Z"), until: null });
    expect(first.created).toBe(true);
    expect(second).toEqual({ job: first.job, created: false });
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
