import { signedAdminRequest, thrownResponse, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import type { DeliveryStatus } from "@prisma/client";

const harness = await startAdminHarness();
const list = await import("~/routes/app.deliveries._index");
const detail = await import("~/routes/app.deliveries.$id");
const { default: prisma } = await import("~/db.server");
const { insertDelivery, conversionJson } = await import("../support/outbox");
const unknownPage = await import("~/routes/app.$");
const { forgetShopTimeZones } = await import("~/admin/shop-time-zone.server");

const SHOP_A = "log-shop-a.myshopify.com";
const SHOP_B = "log-shop-b.myshopify.com";

async function loadList(shop: string, query = "") {
  return unwrap(await list.loader({ request: await signedAdminRequest(shop, `/app/deliveries${query}`), params: {}, context: {} })).data;
}
async function loadDetail(shop: string, id: string) {
  return unwrap(await detail.loader({ request: await signedAdminRequest(shop, `/app/deliveries/${id}`), params: { id }, context: {} })).data;
}
async function retry(shop: string, id: string) {
  const request = await signedAdminRequest(shop, `/app/deliveries/${id}`, { intent: "retry" });
  return unwrap(await detail.action({ request, params: { id }, context: {} })).data;
}

beforeAll(async () => {
  await harness.install(SHOP_A);
  await harness.install(SHOP_B);
});
afterAll(() => harness.close());
beforeEach(async () => {
  await prisma.delivery.deleteMany({});
});
afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
});

describe("delivery log", () => {
  it("lists the shop's orders newest first, as view rows", async () => {
    const older = await insertDelivery(SHOP_A, { createdAt: new Date("2026-11-20T10:00:00Z"), orderName: "#1001", totalAmount: "1234.5", currency: "EUR" });
    const newer = await insertDelivery(SHOP_A, {
      createdAt: new Date("2026-11-21T09:30:00Z"),
      orderName: "#1002",
      status: "retrying",
      attempts: 2,
      lastStatusCode: 503,
    });
    await insertDelivery(SHOP_B, { orderName: "#9999" });

    const view = await loadList(SHOP_A);
    expect(view.rows.map((row) => row.id)).toEqual([newer.id, older.id]);
    expect(view.rows[0]).toEqual({
      id: newer.id,
      order: "#1002",
      total: "$12.50",
      status: "retrying",
      statusLabel: "Retrying",
      attempts: 2,
      lastStatusCode: 503,
      reason: "Refersion had a problem on its side.",
      attribution: "Cart token",
      // Not yet at Refersion: no affiliate can have been credited.
      affiliate: { kind: "not_delivered", label: "Not sent", tone: "subdued", affiliate: null, commission: null },
      receivedAt: "Nov 21, 2026, 9:30 AM UTC",
    });
    expect(view.rows[1].total).toBe("€1,234.50");
    expect(JSON.stringify(view)).not.toContain("#9999");
    expect(view.tabs[0]).toEqual({ id: "all", label: "All", count: 2 });
  });

  it("filters by status through the URL, with counts per status, and shows only the tabs that have orders", async () => {
    await insertDelivery(SHOP_A, { status: "failed" });
    await insertDelivery(SHOP_A, { status: "failed" });
    await insertDelivery(SHOP_A, { status: "waiting_for_keys", requestBody: null });
    await insertDelivery(SHOP_A, { status: "skipped", reasonCode: "test_order" });

    const failed = await loadList(SHOP_A, "?status=failed");
    expect(failed.status).toBe("failed");
    expect(failed.rows.map((row) => row.status)).toEqual(["failed", "failed"]);
    expect(Object.fromEntries(failed.tabs.map((tab) => [tab.id, tab.count]))).toEqual({
      all: 4,
      waiting_for_keys: 1,
      failed: 2,
      skipped: 1,
    });
    // The tab asked for stays, even empty.
    expect((await loadList(SHOP_A, "?status=delivered")).tabs.map((tab) => tab.id)).toEqual(["all", "waiting_for_keys", "delivered", "failed", "skipped"]);

    const unknown = await loadList(SHOP_A, "?status=everything&page=abc");
    expect(unknown.status).toBeNull();
    expect(unknown.rows).toHaveLength(4);
  });

  it("pages through the log 25 rows at a time", async () => {
    const base = Date.parse("2026-11-01T00:00:00Z");
    for (let i = 0; i < 30; i += 1) await insertDelivery(SHOP_A, { createdAt: new Date(base + i * 60_000), orderName: `#p${i}` });

    const first = await loadList(SHOP_A);
    expect(first).toMatchObject({ page: 1, pageCount: 2, total: 30 });
    expect(first.rows).toHaveLength(25);
    expect(first.rows[0].order).toBe("#p29");

    const second = await loadList(SHOP_A, "?page=2");
    expect(second.rows.map((row) => row.order)).toEqual(["#p4", "#p3", "#p2", "#p1", "#p0"]);

    const beyond = await loadList(SHOP_A, "?page=40");
    expect(beyond.page).toBe(2);
  });
});

describe("delivery detail", () => {
  it("shows every attempt, the exact JSON sent (pretty-printed) and the reason", async () => {
    const row = await insertDelivery(
      SHOP_A,
      { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "Refersion rejected the order (422)", lastStatusCode: 422, orderId: "820982911946154508" },
      [
        { startedAt: new Date("2026-11-21T10:00:00Z"), durationMs: 120, statusCode: 503, outcome: "retry", responseExcerpt: '{"error":"busy"}' },
        { startedAt: new Date("2026-11-21T10:05:00Z"), durationMs: 80, statusCode: 422, outcome: "permanent", responseExcerpt: '{"errors":["items: must not be empty"]}' },
      ],
    );
    const view = await loadDetail(SHOP_A, row.id);
    expect(view).toMatchObject({
      id: row.id,
      orderId: "820982911946154508",
      status: "failed",
      statusLabel: "Failed",
      reasonCode: "refersion_rejected",
      retryAction: "Retry",
      shopifyOrderUrl: `https://${SHOP_A}/admin/orders/820982911946154508`,
    });
    // Plain words first; Refersion's own words only among the technical details.
    expect(view.explanation).toEqual({
      reason: "Refersion could not use the order's details.",
      retry: "The app does not send it again by itself. Sending the same again would be refused again.",
      nextStep: "Check the order in Shopify (items, prices, currency). If it looks right, contact the app's support with the technical details below.",
      technical: "Refersion's last answer: HTTP 422 · Reason code: refersion_rejected · Refersion rejected the order (422)",
    });
    // The readable summary of what was sent (conversionJson: 2 × Socks at 4.50, shipping 2.50, tax 1.00).
    expect(view.summary).toEqual({
      items: [{ name: "Socks", sku: "SKU-1", quantity: 2, price: "$4.50" }],
      itemCount: "2 items",
      totals: [
        { label: "Items", amount: "$9.00" },
        { label: "Shipping", amount: "$2.50" },
        { label: "Tax", amount: "$1.00" },
      ],
      customer: "Not sent (sending customer details is off in Settings, or the order has none)",
      clickData: { present: true, text: expect.stringMatching(/storefront's cart id/) },
    });
    expect(view.requestJson).toBe(JSON.stringify(JSON.parse(conversionJson("820982911946154508")), null, 2));
    expect(view.attempts.map((a) => [a.startedAt, a.statusCode, a.outcomeLabel, a.durationMs])).toEqual([
      ["Nov 21, 2026, 10:05 AM UTC", 422, "Failed", 80],
      ["Nov 21, 2026, 10:00 AM UTC", 503, "Failed, will retry", 120],
    ]);
    expect(view.attempts[0].responseExcerpt).toContain("must not be empty");
  });

  it.each<[DeliveryStatus, string | null]>([
    ["failed", "Retry"],
    ["skipped", "Retry"],
    ["delivered", "Resend"],
    ["pending", null],
    ["retrying", null],
    ["waiting_for_keys", null],
  ])("offers the right button for a %s order", async (status, expected) => {
    const row = await insertDelivery(SHOP_A, { status });
    expect((await loadDetail(SHOP_A, row.id)).retryAction).toBe(expected);
  });

  it("GIVEN a row as the tests insert it THEN it reads as a merchant's order does: totals that add up, a source, a delivered row not 'Not sent'", async () => {
    const row = await insertDelivery(SHOP_A);
    const view = await loadDetail(SHOP_A, row.id);
    const cents = (amount: string) => Math.round(Number(amount.replace(/[^0-9.]/g, "")) * 100);
    expect(view.summary!.totals.reduce((sum, line) => sum + cents(line.amount), 0)).toBe(cents(view.total!));
    expect(view.attribution).not.toBeNull();
    const [listed] = (await loadList(SHOP_A)).rows;
    expect(listed.affiliate?.label).not.toBe("Not sent");
  });

  it("answers 404 for an id that does not exist or is not an id", async () => {
    expect((await thrownResponse(() => loadDetail(SHOP_A, "cknotthere000000000000000"))).status).toBe(404);
    // A hostile id, not-a-path the app reads.
    expect((await thrownResponse(() => loadDetail(SHOP_A, "../../etc"))).status).toBe(404);
  });
});

describe("retry and resend", () => {
  it("GIVEN a failed order WHEN Retry is clicked twice THEN it is queued once and the second click says so", async () => {
    const row = await insertDelivery(SHOP_A, { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "Refersion answered 400", nextAttemptAt: new Date("2026-01-01T00:00:00Z") });
    const first = await retry(SHOP_A, row.id);
    expect(first).toMatchObject({ queued: true, tone: "success" });
    const second = await retry(SHOP_A, row.id);
    expect(second).toMatchObject({ queued: false, tone: "info", message: expect.stringMatching(/already queued/) });
    const after = await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } });
    expect(after).toMatchObject({ status: "pending", reasonCode: null, reasonDetail: null });
  });

  it("GIVEN a delivered order WHEN Resend is clicked THEN it is queued to be sent again", async () => {
    const row = await insertDelivery(SHOP_A, { status: "delivered" });
    expect(await retry(SHOP_A, row.id)).toMatchObject({ queued: true, message: expect.stringMatching(/again/) });
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("pending");
  });

  it("GIVEN an order waiting for keys THEN it explains why nothing was queued", async () => {
    const row = await insertDelivery(SHOP_A, { status: "waiting_for_keys", requestBody: null });
    expect(await retry(SHOP_A, row.id)).toMatchObject({ queued: false, tone: "warning" });
  });

  it("refuses any other intent", async () => {
    const row = await insertDelivery(SHOP_A, { status: "failed" });
    const request = await signedAdminRequest(SHOP_A, `/app/deliveries/${row.id}`, { intent: "delete" });
    expect((await thrownResponse(() => detail.action({ request, params: { id: row.id }, context: {} }))).status).toBe(400);
  });
});

describe("shop isolation", () => {
  it("GIVEN shop B's delivery WHEN shop A opens or retries it THEN both answer 404 and B's row is untouched", async () => {
    const theirs = await insertDelivery(SHOP_B, { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "kept" });
    expect((await thrownResponse(() => loadDetail(SHOP_A, theirs.id))).status).toBe(404);
    expect((await thrownResponse(() => retry(SHOP_A, theirs.id))).status).toBe(404);
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: theirs.id } })).toMatchObject({ status: "failed", reasonCode: "refersion_rejected", reasonDetail: "kept" });
    expect((await loadList(SHOP_A)).rows).toEqual([]);
    expect((await loadDetail(SHOP_B, theirs.id)).id).toBe(theirs.id);
  });

  it("refuses a shop named in the URL that is not the session's: the session decides", async () => {
    await insertDelivery(SHOP_B, { status: "failed" });
    expect((await thrownResponse(() => loadList(SHOP_A, `?shop=${SHOP_B}`))).status).toBe(400);
  });
});

describe("search, date range and the shop's time zone", () => {
  beforeEach(() => {
    harness.shopify.setShop(SHOP_A, { ianaTimezone: "UTC" });
    forgetShopTimeZones();
  });

  it("finds an order by its number, with or without #, and counts the tabs within the search", async () => {
    await insertDelivery(SHOP_A, { orderName: "#1001", status: "failed" });
    await insertDelivery(SHOP_A, { orderName: "#11001", status: "delivered" });
    await insertDelivery(SHOP_A, { orderName: "#2002" });
    for (const q of ["1001", "%231001", "%20%231001%20"]) {
      const view = await loadList(SHOP_A, `?q=${q}`);
      expect(view.rows.map((row) => row.order).sort(), q).toEqual(["#1001", "#11001"]);
      expect(view.query).toBe("1001");
    }
    const found = await loadList(SHOP_A, "?q=1001&status=failed");
    expect(found.rows.map((row) => row.order)).toEqual(["#1001"]);
    expect(Object.fromEntries(found.tabs.map((tab) => [tab.id, tab.count]))).toEqual({ all: 2, delivered: 1, failed: 1 });
    expect((await loadList(SHOP_A, "?q=9999")).rows).toEqual([]);
  });

  it("GIVEN a shop in Los Angeles THEN Today starts at the shop's midnight and times are the shop's", async () => {
    harness.shopify.setShop(SHOP_A, { ianaTimezone: "America/Los_Angeles" });
    const now = new Date();
    const shopDay = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Los_Angeles" }).format(now);
    const [year, month, day] = shopDay.split("-").map(Number);
    // The shop's midnight: UTC plus the shop's offset (8 hours in winter, 7 in summer).
    const offsetHours = Number(/GMT-(\d+)/.exec(new Intl.DateTimeFormat("en-US", { timeZone: "America/Los_Angeles", timeZoneName: "shortOffset" }).format(now))![1]);
    const midnight = Date.UTC(year, month - 1, day, offsetHours);
    await insertDelivery(SHOP_A, { orderName: "#today", createdAt: new Date(Math.min(midnight + 60_000, now.getTime())) });
    await insertDelivery(SHOP_A, { orderName: "#yesterday", createdAt: new Date(midnight - 60_000) });
    await insertDelivery(SHOP_A, { orderName: "#lastmonth", createdAt: new Date(midnight - 40 * 86_400_000) });

    const today = await loadList(SHOP_A, "?range=today");
    expect(today.rows.map((row) => row.order)).toEqual(["#today"]);
    expect(today.range).toBe("today");
    expect(today.rows[0].receivedAt).toMatch(/ (PST|PDT)$/);
    expect((await loadList(SHOP_A, "?range=7d")).rows.map((row) => row.order)).toEqual(["#today", "#yesterday"]);
    expect((await loadList(SHOP_A, "?range=90d")).rows).toHaveLength(3);
    expect((await loadList(SHOP_A, "?range=forever")).range).toBeNull();
  });
});

describe("retry all failed", () => {
  async function retryAll(shop = SHOP_A) {
    const request = await signedAdminRequest(shop, "/app/deliveries", { intent: "retry_all_failed" });
    return unwrap(await list.action({ request, params: {}, context: {} })).data;
  }

  it("GIVEN failed orders WHEN Retry all failed is clicked twice THEN each is queued once, another shop's untouched", async () => {
    const a = await insertDelivery(SHOP_A, { status: "failed", reasonCode: "retries_exhausted", lastStatusCode: 503 });
    const b = await insertDelivery(SHOP_A, { status: "failed", reasonCode: "refersion_rejected", lastStatusCode: 401 });
    await insertDelivery(SHOP_A, { status: "delivered" });
    const theirs = await insertDelivery(SHOP_B, { status: "failed" });
    expect((await loadList(SHOP_A)).failedCount).toBe(2);

    const first = await retryAll();
    expect(first).toMatchObject({ tone: "success", queued: 2, message: "2 failed orders queued for another attempt." });
    for (const id of [a.id, b.id]) expect((await prisma.delivery.findUniqueOrThrow({ where: { id } })).status).toBe("pending");

    const second = await retryAll();
    expect(second).toMatchObject({ tone: "info", queued: 0 });
    expect(second.message).toMatch(/^No failed order to retry/);
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: theirs.id } })).status).toBe("failed");
    expect((await loadList(SHOP_A)).failedCount).toBe(0);
  });

  it("refuses any other intent on the log", async () => {
    const request = await signedAdminRequest(SHOP_A, "/app/deliveries", { intent: "delete_everything" });
    const error = await list.action({ request, params: {}, context: {} }).catch((thrown: unknown) => thrown);
    expect((error as Response).status).toBe(400);
  });
});

describe("unknown app URLs", () => {
  it("answers 404 for any path under /app that no page serves", async () => {
    const request = await signedAdminRequest(SHOP_A, "/app/no-such-page");
    const error = await unknownPage.loader({ request, params: { "*": "no-such-page" }, context: {} }).catch((thrown: unknown) => thrown);
    expect((error as Response).status).toBe(404);
  });
});
