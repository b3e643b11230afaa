/**
 * The checkout pixel's report, end to end in this process: the report route, the order webhook's
 * route, the outbox and the delivery worker on a controllable clock, against the Refersion
 * stand-in. Orders without a cart wait for click data while the shop's pixel runs; a report
 * credits them, before or after the webhook; without one they go out when the wait ends; a
 * report never changes an order of another shop, one credited by its cart, or one already sent.
 */
import { checkoutTokenHash } from "~/attribution/click-report";
import { orderFixture } from "../support/fixtures";

// Before any app module reads the environment (parsed once per file).
process.env.PIXEL_REPORTS_PER_MINUTE = "40";
const { default: prisma } = await import("~/db.server");
const report = await import("~/routes/pixel.checkout-completed");
const { useLifecycleHarness, sendWebhook, configureLifecycleShop } = await import("../support/order-lifecycle");

const SHOP = "pixel-attribution.myshopify.com";
const OTHER_SHOP = "pixel-other.myshopify.com";
const CLICK = { id: "click-8908369-4f153d", affiliateId: "8908369", cs: "4f153d" };
const WAIT_MS = 5 * 60_000;

const harness = useLifecycleHarness({ configureShop: SHOP });

/** A Buy it now order: the real fixture's checkout, no cart token, its own id. */
function buyItNow(id: number): Record<string, unknown> {
  return { ...orderFixture("real-aud-order-1027-gst-taxes-included-bank-deposit-2016.json"), id, cart_token: null, checkout_token: `chk-${id}` };
}

function postReport(body: string | Record<string, unknown>, method = "POST"): Promise<Response> {
  const request = new Request("https://refersion-app.test/pixel/checkout-completed", {
    method,
    headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: "https://shop.example" },
    body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
  });
  const handler = method === "POST" ? report.action : report.loader;
  return handler({ request, params: {}, context: {} }) as Promise<Response>;
}

const reportFor = (order: Record<string, unknown>, shop = SHOP) => ({ shop, orderId: String(order.id), checkoutToken: String(order.checkout_token), click: CLICK });
const row = (orderId: unknown, shop = SHOP) => prisma.delivery.findUniqueOrThrow({ where: { shop_orderId_kind: { shop, orderId: String(orderId), kind: "order" } } });
const sentFor = (orderId: unknown) => harness.sandbox.orders().filter((request) => (request.body as { order_id: string }).order_id === String(orderId));

beforeEach(async () => {
  await prisma.clickHint.deleteMany();
  await prisma.shopSettings.update({ where: { shop: SHOP }, data: { pixelStatus: "connected", clickDataWaitMinutes: 5 } });
  await configureLifecycleShop(OTHER_SHOP);
});

describe("an order without a cart, while the shop's pixel runs", () => {
  it("waits for click data, and without a report is sent as before when the wait ends", async () => {
    const order = buyItNow(7_100_001);
    expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
    expect(await row(order.id)).toMatchObject({ status: "pending", reasonCode: "awaiting_click_data", attributionSource: "none" });

    const worker = harness.worker();
    await worker.drain();
    expect(sentFor(order.id)).toEqual([]);
    harness.clock.advance(WAIT_MS);
    await worker.drain();
    expect(sentFor(order.id)).toHaveLength(1);
    expect(sentFor(order.id)[0].body).not.toHaveProperty("auto_credit_affiliate_id");
    expect(await row(order.id)).toMatchObject({ status: "delivered", reasonCode: null, attributionSource: "none" });
  });

  it("is sent at once with the click's affiliate when the report comes after the webhook", async () => {
    const order = buyItNow(7_100_002);
    await sendWebhook(SHOP, "orders/create", order);
    const answer = await postReport(reportFor(order));
    expect(answer.status).toBe(204);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await row(order.id)).toMatchObject({ status: "pending", reasonCode: null, attributionSource: "pixel" });

    await harness.worker().drain();
    expect(sentFor(order.id)).toHaveLength(1);
    expect(sentFor(order.id)[0].body).toMatchObject({ order_id: "7100002", auto_credit_affiliate_id: 8908369, cart_id: expect.stringMatching(/^ord-/) });
  });

  it("is credited without waiting when the report came first, and the hint keeps no click id or token", async () => {
    const order = buyItNow(7_100_003);
    expect((await postReport(reportFor(order))).status).toBe(204);
    const hint = await prisma.clickHint.findFirstOrThrow({ where: { shop: SHOP, orderId: "7100003" } });
    expect(hint).toMatchObject({ affiliateId: "8908369", checkoutTokenHash: checkoutTokenHash("chk-7100003") });
    expect(JSON.stringify(hint)).not.toContain(CLICK.id);
    expect(JSON.stringify(hint)).not.toContain("chk-7100003");

    await sendWebhook(SHOP, "orders/create", order);
    expect(await row(order.id)).toMatchObject({ status: "pending", reasonCode: null, attributionSource: "pixel" });
    await harness.worker().drain();
    expect(sentFor(order.id)[0].body).toMatchObject({ auto_credit_affiliate_id: 8908369 });
  });

  it("does not wait when the shop's pixel is not connected", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { pixelStatus: "not_connected" } });
    const order = buyItNow(7_100_004);
    await sendWebhook(SHOP, "orders/create", order);
    expect(await row(order.id)).toMatchObject({ status: "pending", reasonCode: null, attributionSource: "none" });
  });
});

describe("reports that change nothing", () => {
  it("another shop's report for this shop's order: this shop's order waits on, unchanged", async () => {
    const order = buyItNow(7_100_010);
    await sendWebhook(SHOP, "orders/create", order);
    const before = await row(order.id);
    expect((await postReport(reportFor(order, OTHER_SHOP))).status).toBe(204);
    expect(await row(order.id)).toEqual(before);
  });

  it("a report for an order with a cart token: nothing kept, the cart's attribution stays", async () => {
    const order: Record<string, unknown> = { ...buyItNow(7_100_011), cart_token: "c1-0123456789abcdef" };
    await sendWebhook(SHOP, "orders/create", order);
    const before = await row(order.id);
    expect(before).toMatchObject({ attributionSource: "cart_token", reasonCode: null });
    expect((await postReport(reportFor(order))).status).toBe(204);
    expect(await row(order.id)).toEqual(before);
    expect(await prisma.clickHint.count()).toBe(0);
  });

  it("a report for an order already delivered: nothing kept, nothing sent again", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { clickDataWaitMinutes: 0 } });
    const order = buyItNow(7_100_012);
    await sendWebhook(SHOP, "orders/create", order);
    await harness.worker().drain();
    const before = await row(order.id);
    expect(before.status).toBe("delivered");
    expect((await postReport(reportFor(order))).status).toBe(204);
    await harness.worker().drain();
    expect(await row(order.id)).toEqual(before);
    expect(sentFor(order.id)).toHaveLength(1);
    expect(await prisma.clickHint.count()).toBe(0);
  });

  it("a report from another checkout than the order's credits nothing, and does not block the real one after it", async () => {
    const order = buyItNow(7_100_013);
    await sendWebhook(SHOP, "orders/create", order);
    expect((await postReport({ ...reportFor(order), checkoutToken: "someone-elses-checkout", click: { ...CLICK, affiliateId: "111" } })).status).toBe(204);
    expect(await row(order.id)).toMatchObject({ reasonCode: "awaiting_click_data", attributionSource: "none" });
    expect((await postReport(reportFor(order))).status).toBe(204);
    expect(await row(order.id)).toMatchObject({ reasonCode: null, attributionSource: "pixel" });
    await harness.worker().drain();
    expect(sentFor(order.id)[0].body).toMatchObject({ auto_credit_affiliate_id: 8908369 });
  });

  it("a forged report posted before the order arrives does not block the real one either", async () => {
    const order = buyItNow(7_100_014);
    expect((await postReport({ ...reportFor(order), checkoutToken: "chk-wrong", click: { ...CLICK, affiliateId: "111" } })).status).toBe(204);
    expect((await postReport(reportFor(order))).status).toBe(204);
    await sendWebhook(SHOP, "orders/create", order);
    expect(await row(order.id)).toMatchObject({ reasonCode: null, attributionSource: "pixel" });
    await harness.worker().drain();
    expect(sentFor(order.id)[0].body).toMatchObject({ auto_credit_affiliate_id: 8908369 });
  });

  it("keeps at most a few reports per order, one per checkout token, and the first without a token", async () => {
    const { CLICK_HINTS_PER_ORDER } = await import("~/attribution/click-hints.server");
    const order = buyItNow(7_100_015);
    const noToken = { ...reportFor(order), checkoutToken: null };
    expect((await postReport(noToken)).status).toBe(204);
    expect((await postReport({ ...noToken, click: { ...CLICK, affiliateId: "111" } })).status).toBe(204);
    expect((await postReport(reportFor(order))).status).toBe(204);
    expect((await postReport(reportFor(order))).status).toBe(204);
    for (let i = 0; i < 20; i += 1) expect((await postReport({ ...reportFor(order), checkoutToken: `chk-flood-${i}` })).status).toBe(204);
    const kept = await prisma.clickHint.findMany({ where: { shop: SHOP, orderId: String(order.id) }, orderBy: { id: "asc" } });
    expect(kept).toHaveLength(CLICK_HINTS_PER_ORDER);
    expect(kept.filter((hint) => hint.checkoutTokenHash === null).map((hint) => hint.affiliateId)).toEqual(["8908369"]);
    expect(kept.filter((hint) => hint.checkoutTokenHash === checkoutTokenHash("chk-7100015"))).toHaveLength(1);
  });

  it.each<[string, string, number]>([
    ["not JSON", "{", 400],
    ["an unknown key", JSON.stringify({ shop: SHOP, orderId: "7100020", checkoutToken: null, click: CLICK, email: "buyer@example.com" }), 400],
    // Answered as an ignored report: the answer does not tell which shops use the app.
    ["a shop that never installed the app", JSON.stringify({ shop: "stranger.myshopify.com", orderId: "7100020", checkoutToken: null, click: CLICK }), 204],
    ["a body over 4 KB", JSON.stringify({ shop: SHOP, orderId: "7100020", checkoutToken: null, click: { ...CLICK, id: "x".repeat(5_000) } }), 413],
  ])("%s: refused, nothing kept", async (_name, body, status) => {
    const answer = await postReport(body);
    expect(answer.status).toBe(status);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await prisma.clickHint.count()).toBe(0);
  });

  it("answers a preflight, and a shop's reports past its rate are refused with 429", async () => {
    const preflight = await postReport("", "OPTIONS");
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    const answers: number[] = [];
    for (let i = 0; i < 45; i += 1) answers.push((await postReport(reportFor(buyItNow(7_200_000 + i), OTHER_SHOP))).status);
    expect(answers.filter((status) => status === 204).length).toBeLessThanOrEqual(40);
    expect(answers.at(-1)).toBe(429);
  });
});

describe("an order whose reports all named another checkout", () => {
  it("is logged as a warning for the operator, with counts and no token; a matching report logs nothing", async () => {
    const { setLogSink } = await import("~/logger.server");
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    try {
      // Report first, then the order.
      const first = buyItNow(7_100_030);
      await postReport({ ...reportFor(first), checkoutToken: "chk-other-a" });
      await postReport({ ...reportFor(first), checkoutToken: "chk-other-b" });
      await sendWebhook(SHOP, "orders/create", first);
      // Order first, then the report.
      const second = buyItNow(7_100_031);
      await sendWebhook(SHOP, "orders/create", second);
      await postReport({ ...reportFor(second), checkoutToken: "chk-other-c" });
      // A matching report: no warning.
      const third = buyItNow(7_100_032);
      await postReport(reportFor(third));
      await sendWebhook(SHOP, "orders/create", third);
    } finally {
      setLogSink((line) => process.stdout.write(line + "\n"));
    }
    const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === "warn" && /checkout token did not match/.test(entry.msg));
    expect(warnings.map((entry) => [entry.msg, entry.reports])).toEqual([
      ["checkout token did not match any report for order 7100030", 2],
      ["checkout token did not match any report for order 7100031", 1],
    ]);
    const all = lines.join("\n");
    for (const token of ["chk-other-a", "chk-other-b", "chk-other-c", "chk-7100030", "chk-7100031", "chk-7100032"]) expect(all).not.toContain(token);
  });
});

describe("reports naming a shop without the app", () => {
  it("are answered as ignored reports, for a shop that uninstalled too, and are rate-limited like any shop's", async () => {
    await configureLifecycleShop("pixel-gone.myshopify.com");
    await prisma.shopSettings.update({ where: { shop: "pixel-gone.myshopify.com" }, data: { uninstalledAt: new Date() } });
    const gone = await postReport(reportFor(buyItNow(7_300_000), "pixel-gone.myshopify.com"));
    expect(gone.status).toBe(204);
    const answers: number[] = [];
    for (let i = 0; i < 45; i += 1) answers.push((await postReport(reportFor(buyItNow(7_300_001 + i), "pixel-stranger.myshopify.com"))).status);
    expect(answers.slice(0, 40).every((status) => status === 204)).toBe(true);
    expect(answers.at(-1)).toBe(429);
    expect(await prisma.clickHint.count()).toBe(0);
  });
});

describe("the reports' rate limit", () => {
  it("tracks a bounded number of shops, forgetting the one seen longest ago", async () => {
    const { createReportRateLimit } = await import("~/attribution/click-hints.server");
    const withinRate = createReportRateLimit(2, () => 0, 3);
    expect([withinRate("a"), withinRate("a"), withinRate("a")]).toEqual([true, true, false]);
    for (const shop of ["b", "c", "d", "e", "f"]) withinRate(shop);
    expect(withinRate.trackedShops()).toBe(3);
    // "a" was forgotten: its bucket starts full again.
    expect(withinRate("a")).toBe(true);
    // "f", seen recently, is still tracked.
    expect([withinRate("f"), withinRate("f")]).toEqual([true, false]);
  });
});

describe("what is kept of reports", () => {
  it("is swept after a week, and erased with the customer's orders and with the shop", async () => {
    const { sweepClickHints, CLICK_HINT_RETENTION_MS } = await import("~/attribution/click-hints.server");
    const { redactCustomer, redactShop } = await import("~/privacy/compliance.server");
    const now = new Date();
    await prisma.clickHint.createMany({
      data: [
        { shop: SHOP, orderId: "1", affiliateId: "8908369", receivedAt: new Date(now.getTime() - CLICK_HINT_RETENTION_MS - 1_000) },
        { shop: SHOP, orderId: "2", affiliateId: "8908369", receivedAt: now },
        { shop: SHOP, orderId: "3", affiliateId: "8908369", receivedAt: now },
        { shop: OTHER_SHOP, orderId: "2", affiliateId: "8908369", receivedAt: now },
      ],
    });
    expect(await sweepClickHints(now)).toBe(1);
    await redactCustomer(SHOP, { shop_domain: SHOP, customer: { id: 42 }, orders_to_redact: [2] }, now);
    expect((await prisma.clickHint.findMany({ orderBy: [{ shop: "asc" }, { orderId: "asc" }] })).map((hint) => `${hint.shop}:${hint.orderId}`)).toEqual([
      `${SHOP}:3`,
      `${OTHER_SHOP}:2`,
    ]);
    await redactShop(SHOP, now);
    expect((await prisma.clickHint.findMany()).map((hint) => hint.shop)).toEqual([OTHER_SHOP]);
  });
});
