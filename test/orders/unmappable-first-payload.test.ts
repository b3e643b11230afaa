/**
 * An order whose first payload could not be mapped (an invalid amount, an amount missing in the
 * buyer's currency) is not blocked for good: a later payload of the same order that can be mapped
 * replaces the failed row, whether it comes from orders/paid, from orders/create again, from
 * "resend past orders", or from the merchant's Retry once the cause is gone.
 */
import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { retryDelivery } from "~/orders/manual-retry.server";
import { acceptPaidOrderWebhook } from "~/orders/paid.server";
import { requeueOrder } from "~/orders/requeue.server";
import { orderFixture } from "../support/fixtures";
import { configureShop, deliveryOf, DOCS_ORDER } from "../support/outbox";

const SHOP = "unmappable-first.myshopify.com";
let nextId = 8_100_000;

type Order = Record<string, unknown> & { line_items: Record<string, unknown>[] };

function validOrder(id: number, changes: Partial<Order> = {}): Order {
  return { ...(orderFixture(DOCS_ORDER) as Order), id, admin_graphql_api_id: `gid://shopify/Order/${id}`, ...changes };
}

/** The same order with a price Shopify would never send. */
function withInvalidAmount(order: Order): Order {
  return { ...order, line_items: order.line_items.map((line, index) => (index === 0 ? { ...line, price: "12,34", price_set: null } : line)) };
}

async function recordUnmappable(order: Order) {
  const first = await acceptOrderWebhook({ shop: SHOP, payload: withInvalidAmount(order), webhookId: `create-${String(order.id)}` });
  expect(first.outcome).toBe("unmappable");
  expect(await deliveryOf(SHOP, String(order.id))).toMatchObject({ status: "failed", reasonCode: "unmappable", requestBody: null });
}

beforeEach(async () => {
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await configureShop(SHOP, { publicKey: "pub_unmappable", secretKey: "sec_unmappable_key" });
});

describe("an order whose first payload could not be mapped", () => {
  it("is replaced by its orders/paid when that can be mapped, and queued", async () => {
    const order = validOrder(nextId++);
    await recordUnmappable(order);
    const paid = await acceptPaidOrderWebhook({ shop: SHOP, payload: { ...order, financial_status: "paid" }, webhookId: `paid-${String(order.id)}` });
    expect(paid.outcome).toBe("queued");
    const row = await deliveryOf(SHOP, String(order.id));
    expect(row).toMatchObject({ status: "pending", reasonCode: null, reasonDetail: null, sourceExcerpt: null });
    expect(JSON.parse(row.requestBody!)).toMatchObject({ order_id: String(order.id) });
    expect(paid.deliveryId).toBe(row.id);
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(1);
  });

  it("is replaced by orders/create arriving again with a payload that can be mapped", async () => {
    const order = validOrder(nextId++);
    await recordUnmappable(order);
    expect((await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: `create-again-${String(order.id)}` })).outcome).toBe("queued");
    expect(await deliveryOf(SHOP, String(order.id))).toMatchObject({ status: "pending" });
  });

  it("waits for payment when replaced by a valid orders/create under the paid trigger, and is released by orders/paid", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { forwardTrigger: "paid" } });
    const order = validOrder(nextId++, { financial_status: "pending" });
    await recordUnmappable(order);
    expect((await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: `again-${String(order.id)}` })).outcome).toBe("waiting_for_payment");
    expect((await acceptPaidOrderWebhook({ shop: SHOP, payload: { ...order, financial_status: "paid" }, webhookId: null })).outcome).toBe("queued");
  });

  it("records the skip a replacing payload deserves (a test order while test orders are not forwarded)", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { forwardTestOrders: false } });
    const order = validOrder(nextId++, { test: true });
    await recordUnmappable(order);
    expect((await acceptPaidOrderWebhook({ shop: SHOP, payload: order, webhookId: null })).outcome).toBe("skipped");
    expect(await deliveryOf(SHOP, String(order.id))).toMatchObject({ status: "skipped", reasonCode: "test_order" });
  });

  it("is replaced by resend past orders", async () => {
    const order = validOrder(nextId++);
    await recordUnmappable(order);
    expect(await requeueOrder(SHOP, String(order.id), { payload: order })).toMatchObject({ requeued: true, status: "pending" });
  });

  it("is mapped again by the merchant's Retry once the cause is gone (an amount missing in the buyer's currency, reported in the shop's now)", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { currency: "presentment" } });
    const id = nextId++;
    // A 2020 order paid in USD in an AUD shop, without its *_set amounts: nothing in the buyer's currency.
    const order = JSON.parse(JSON.stringify(orderFixture("real-aud-shop-usd-presentment-order-1029-2020.json")), (key, value) =>
      key.endsWith("_set") ? undefined : value,
    ) as Order;
    Object.assign(order, { id, admin_graphql_api_id: `gid://shopify/Order/${id}` });
    expect((await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: `create-${id}` })).outcome).toBe("unmappable");
    const row = await deliveryOf(SHOP, String(id));
    expect(await retryDelivery(SHOP, { deliveryId: row.id })).toMatchObject({ ok: false, reason: "not_mapped" });

    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { currency: "shop" } });
    expect(await retryDelivery(SHOP, { deliveryId: row.id })).toEqual({ ok: true, status: "pending" });
    const retried = await deliveryOf(SHOP, String(id));
    expect(retried).toMatchObject({ status: "pending", reasonCode: null });
    expect(JSON.parse(retried.requestBody!)).toMatchObject({ currency_code: "AUD" });
  });

  it("a row that failed for another reason (Refersion refused it) is not resent by a later webhook", async () => {
    const order = validOrder(nextId++);
    await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: `create-${String(order.id)}` });
    await prisma.delivery.updateMany({ where: { shop: SHOP, orderId: String(order.id) }, data: { status: "failed", reasonCode: "refersion_rejected" } });
    expect((await acceptPaidOrderWebhook({ shop: SHOP, payload: order, webhookId: null })).outcome).toBe("duplicate");
    expect(await deliveryOf(SHOP, String(order.id))).toMatchObject({ status: "failed", reasonCode: "refersion_rejected" });
  });
});
