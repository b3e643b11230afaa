import { signedAdminRequest, thrownResponse, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import type { DeliveryStatus } from "@prisma/client";

const harness = await startAdminHarness();
const list = await import("~/routes/app.deliveries._index");
const detail = await import("~/routes/app.deliveries.$id");
const { default: prisma } = await import("~/db.server");
const { insertDelivery, conversionJson } = await import("../support/outbox");

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
      attribution: null,
      receivedAt: "Nov 21, 2026, 9:30 AM UTC",
    });
    expect(view.rows[1].total).toBe("€1,234.50");
    expect(JSON.stringify(view)).not.toContain("#9999");
    expect(view.tabs[0]).toEqual({ id: "all", label: "All", count: 2 });
  });

  it("filters by status through the URL, with counts per status", async () => {
    await insertDelivery(SHOP_A, { status: "failed" });
    await insertDelivery(SHOP_A, { status: "failed" });
    await insertDelivery(SHOP_A, { status: "waiting_for_keys", requestBody: null });
    await insertDelivery(SHOP_A, { status: "skipped", reasonCode: "test_order" });

    const failed = await loadList(SHOP_A, "?status=failed");
    expect(failed.status).toBe("failed");
    expect(failed.rows.map((row) => row.status)).toEqual(["failed", "failed"]);
    expect(Object.fromEntries(failed.tabs.map((tab) => [tab.id, tab.count]))).toMatchObject({
      all: 4,
      waiting_for_keys: 1,
      pending: 0,
      retrying: 0,
      delivered: 0,
      failed: 2,
      skipped: 1,
    });

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
      reason: "Refersion rejected the order (422)",
      retryAction: "Retry",
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
