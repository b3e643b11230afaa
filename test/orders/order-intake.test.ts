import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { releaseOrdersWaitingForKeys } from "~/orders/release.server";
import { retryDelivery } from "~/orders/manual-retry.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { describeReason } from "~/admin/delivery-reasons";
import { orderFixture } from "../support/fixtures";
import { configureShop, deliveryOf } from "../support/outbox";

const SHOP = "intake.myshopify.com";
const KEYS = { publicKey: "pub_intake", secretKey: "sec_intake_key" };

beforeEach(async () => {
  await prisma.delivery.deleteMany();
  await prisma.shopSettings.deleteMany();
});

describe("order intake", () => {
  it("keeps orders that arrive before keys waiting, then maps them with the settings saved later", async () => {
    // A real (non-test) order: the fixture's store was in test mode.
    const order = { ...orderFixture("real-aud-shop-usd-presentment-order-1029-2020.json"), test: false };
    expect((await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: "w1" })).outcome).toBe("waiting_for_keys");

    await saveShopSettings(SHOP, { ...KEYS, forwardingEnabled: true, currency: "presentment", forwardTestOrders: true, sendCustomerDetails: false, autoCreditAffiliate: false });
    expect(await releaseOrdersWaitingForKeys(SHOP)).toBe(1);
    expect(await releaseOrdersWaitingForKeys(SHOP)).toBe(0);

    const row = await deliveryOf(SHOP, "2998548365461");
    expect(row.status).toBe("pending");
    const sent = JSON.parse(row.requestBody!);
    expect(sent.currency_code).toBe("USD");
    expect(sent.customer).toBeUndefined();
  });

  it.each([
    ["a test order while test orders are off", { forwardTestOrders: false }, "real-aud-order-1030-2020.json", "test_order", /Test order/],
    ["any order while forwarding is off", { forwardingEnabled: false }, "shopify-docs-order-1001-2026-07.json", "forwarding_off_on_arrival", /switched off/],
    ["a zero-value order", {}, "real-usd-order-1001-zero-total-free-no-shipping-pre-2018-schema-2017.json", "zero_value", /Zero-value/],
  ] as const)("records %s as skipped, with the reason", async (_name, options, fixture, code, reason) => {
    await saveShopSettings(SHOP, {
      ...KEYS, forwardingEnabled: true, currency: "shop", forwardTestOrders: true, sendCustomerDetails: true, autoCreditAffiliate: false, ...options,
    });
    const result = await acceptOrderWebhook({ shop: SHOP, payload: orderFixture(fixture), webhookId: null });
    expect(result.outcome).toBe("skipped");
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP } });
    expect(row.status).toBe("skipped");
    expect(row.reasonCode).toBe(code);
    expect(describeReason(row.reasonCode, row.reasonDetail)).toMatch(reason);
    expect(row.requestBody).not.toBeNull();
  });

  it("decides orders of several shops arriving together each with its own shop's settings", async () => {
    // Arriving together, they share one settings read and one insert: each must still get its own.
    await saveShopSettings("keys.myshopify.com", { ...KEYS, forwardingEnabled: true, currency: "presentment", forwardTestOrders: true, sendCustomerDetails: false, autoCreditAffiliate: false });
    await saveShopSettings("off.myshopify.com", { ...KEYS, forwardingEnabled: false, currency: "shop", forwardTestOrders: true, sendCustomerDetails: true, autoCreditAffiliate: false });
    const order = { ...orderFixture("real-aud-shop-usd-presentment-order-1029-2020.json"), test: false };
    const shops = ["keys.myshopify.com", "nokeys.myshopify.com", "off.myshopify.com"];
    const results = await Promise.all(
      [...shops, ...shops].map((shop, index) => acceptOrderWebhook({ shop, payload: order, webhookId: `w${index}` })),
    );
    expect(results.map((result) => result.outcome)).toEqual(["queued", "waiting_for_keys", "skipped", "duplicate", "duplicate", "duplicate"]);
    const sent = JSON.parse((await deliveryOf("keys.myshopify.com", "2998548365461")).requestBody!);
    expect(sent.currency_code).toBe("USD");
    expect(sent.customer).toBeUndefined();
  });

  it("records a flash sale's worth of real orders arriving together once each, a repeated one as a duplicate", async () => {
    // 64 production-shaped rows: more bound values than SQLite takes in one statement, so Prisma
    // splits each group's insert (in one transaction).
    await configureShop(SHOP, KEYS);
    const fixtures = ["shopify-docs-order-1001-2026-07.json", "real-aud-shop-usd-presentment-order-1029-2020.json"];
    const payload = (id: number) => ({ ...orderFixture(fixtures[id % 2]), id, admin_graphql_api_id: `gid://shopify/Order/${id}`, test: false });
    const burst = (orders: number[]) =>
      Promise.all(orders.map((id, index) => acceptOrderWebhook({ shop: SHOP, payload: payload(id), webhookId: `flash-${id}-${index}` })));

    const first = Array.from({ length: 64 }, (_, index) => 6_400_000 + index);
    const firstResults = await burst(first);
    expect(firstResults.map((result) => result.outcome)).toEqual(first.map(() => "queued"));

    // The second burst repeats one order inside its group: the group is written one by one.
    const second = Array.from({ length: 63 }, (_, index) => 6_500_000 + index);
    const secondResults = await burst([...second.slice(0, 40), first[7], ...second.slice(40)]);
    expect(secondResults.filter((result) => result.outcome === "queued")).toHaveLength(63);
    expect(secondResults[40].outcome).toBe("duplicate");

    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { id: true, orderId: true } });
    expect(rows.map((row) => row.orderId).sort()).toEqual([...first, ...second].map(String).sort());
    const answered = [...firstResults, ...secondResults].flatMap((result) => (result.deliveryId ? [result.deliveryId] : []));
    expect(answered.sort()).toEqual(rows.map((row) => row.id).sort());
  });

  it("never lets one shop's order collide with another shop's order of the same id", async () => {
    const order = orderFixture("shopify-docs-order-1001-2026-07.json");
    await acceptOrderWebhook({ shop: "a.myshopify.com", payload: order, webhookId: null });
    await acceptOrderWebhook({ shop: "b.myshopify.com", payload: order, webhookId: null });
    expect(await prisma.delivery.count()).toBe(2);
  });
});

describe("manual retry", () => {
  it("queues a failed order once, however often it is clicked", async () => {
    await configureShop(SHOP, KEYS);
    await acceptOrderWebhook({ shop: SHOP, payload: orderFixture("shopify-docs-order-1001-2026-07.json"), webhookId: null });
    await prisma.delivery.updateMany({ where: { shop: SHOP }, data: { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "Refersion answered 401" } });

    const results = await Promise.all([1, 2, 3].map(() => retryDelivery(SHOP, { orderId: "450789469" })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "already_queued")).toHaveLength(2);
    expect(await deliveryOf(SHOP, "450789469")).toMatchObject({ status: "pending", reasonCode: null, reasonDetail: null, firstAttemptAt: null });
  });

  it("cannot touch another shop's delivery", async () => {
    await configureShop(SHOP, KEYS);
    await acceptOrderWebhook({ shop: SHOP, payload: orderFixture("shopify-docs-order-1001-2026-07.json"), webhookId: null });
    await prisma.delivery.updateMany({ data: { status: "delivered" } });
    expect(await retryDelivery("other.myshopify.com", { orderId: "450789469" })).toEqual({ ok: false, reason: "not_found" });
    expect((await deliveryOf(SHOP, "450789469")).status).toBe("delivered");
  });
});
