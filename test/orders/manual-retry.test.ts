import prisma from "~/db.server";
import { loadDeliveryDetail, retryFromAdmin } from "~/admin/deliveries-page.server";
import { retryDelivery } from "~/orders/manual-retry.server";
import { requeueOrder } from "~/orders/requeue.server";
import { redactCustomer } from "~/privacy/compliance.server";
import { orderFixture } from "../support/fixtures";
import { acceptedCancels, configureLifecycleShop, rowOf, sendWebhook, useLifecycleHarness, withOrderId } from "../support/order-lifecycle";

const SHOP = "manual-retry.myshopify.com";
const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";
const ORDER_ID = "450789469";

const lifecycle = useLifecycleHarness({ configureShop: SHOP });
const drain = () => lifecycle.worker().drain();

async function orderRow(orderId = ORDER_ID) {
  return (await rowOf(SHOP, orderId, "order"))!;
}

describe("Retry and Resend never bring back reversed commission", () => {
  it("GIVEN an order cancelled before the app received it THEN Retry is not offered and is refused with why", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await sendWebhook(SHOP, "orders/create", order);
    const row = await orderRow();

    expect((await loadDeliveryDetail(SHOP, row.id))!.retryAction).toBeNull();
    expect(await retryDelivery(SHOP, { orderId: ORDER_ID })).toEqual({ ok: false, reason: "cancelled" });
    expect(await retryFromAdmin(SHOP, row.id)).toMatchObject({ queued: false, tone: "warning", message: expect.stringMatching(/cancelled in Shopify/) });
    await drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await orderRow()).status).toBe("skipped");
  });

  it("GIVEN a delivered order whose cancellation was delivered WHEN Resend is clicked THEN it is refused with why and nothing is sent", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    await sendWebhook(SHOP, "orders/cancelled", order);
    await drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    const row = await orderRow();
    const before = lifecycle.sandbox.received.length;

    expect(await retryFromAdmin(SHOP, row.id)).toMatchObject({ queued: false, tone: "warning", message: expect.stringMatching(/cancelled in Shopify/) });
    await drain();
    expect(lifecycle.sandbox.received).toHaveLength(before);
    expect((await orderRow()).status).toBe("delivered");
  });

  it("GIVEN a delivered order with a delivered refund WHEN Resend is clicked THEN it is refused: it would credit the refunded items again", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect(await retryFromAdmin(SHOP, (await orderRow()).id)).toMatchObject({ queued: false, message: expect.stringMatching(/reversed/) });
  });

  it("GIVEN a delivered order whose cancellation was not reversed (switched off) WHEN Resend is clicked THEN it is resent", async () => {
    await configureLifecycleShop(SHOP, { reverseCancellations: false });
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    await sendWebhook(SHOP, "orders/cancelled", order);
    expect(await retryFromAdmin(SHOP, (await orderRow()).id)).toMatchObject({ queued: true });
    await drain();
    expect(lifecycle.sandbox.orders()).toHaveLength(2);
  });
});

describe("Retry of skipped and failed rows", () => {
  it("GIVEN a skipped test order THEN Retry keeps it skipped while test orders are not sent, and sends it once they are", async () => {
    await configureLifecycleShop(SHOP, { forwardTestOrders: false });
    const order = { ...withOrderId(orderFixture(DOCS_ORDER), 7_400_001), test: true };
    await sendWebhook(SHOP, "orders/create", order);
    const row = await orderRow("7400001");
    expect(row.status).toBe("skipped");
    expect((await loadDeliveryDetail(SHOP, row.id))!.retryAction).toBe("Retry");

    expect(await retryFromAdmin(SHOP, row.id)).toMatchObject({ queued: false, message: expect.stringMatching(/still skipped.*Test order/) });
    expect(await orderRow("7400001")).toMatchObject({ status: "skipped", reasonCode: row.reasonCode });

    await configureLifecycleShop(SHOP, { forwardTestOrders: true });
    const clicks = await Promise.all([retryFromAdmin(SHOP, row.id), retryFromAdmin(SHOP, row.id)]);
    expect(clicks.filter((click) => click.found && click.queued)).toHaveLength(1);
    await drain();
    expect(lifecycle.sandbox.orders().map((request) => (request.body as { order_id: string }).order_id)).toEqual(["7400001"]);
  });

  it("GIVEN a zero-value order THEN Retry leaves it skipped and says why", async () => {
    const order = orderFixture("real-usd-order-1001-zero-total-free-no-shipping-pre-2018-schema-2017.json");
    await sendWebhook(SHOP, "orders/create", order);
    const row = (await prisma.delivery.findFirst({ where: { shop: SHOP } }))!;
    expect(row.status).toBe("skipped");
    expect(await retryDelivery(SHOP, { deliveryId: row.id })).toMatchObject({ ok: false, reason: "still_skipped", reasonCode: "zero_value" });
  });

  it("GIVEN an order that failed, with a refund set aside because of it WHEN the order is retried THEN the order is sent and then its refund", async () => {
    lifecycle.sandbox.setBehavior({ mode: "fail", status: 400, remaining: 1 }, "order");
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await drain();
    expect((await orderRow()).status).toBe("failed");
    // The refund looks again, finds the order failed, and is set aside.
    lifecycle.clock.advance(30_000);
    await drain();
    expect(await rowOf(SHOP, ORDER_ID, "refund:509562969")).toMatchObject({ status: "skipped", reasonCode: "predecessor_not_delivered" });

    expect(await retryDelivery(SHOP, { orderId: ORDER_ID }, lifecycle.clock.now())).toEqual({ ok: true, status: "pending" });
    await drain();
    lifecycle.clock.advance(30_000);
    await drain();
    expect(lifecycle.sandbox.received.filter((r) => r.accepted).map((r) => r.endpoint)).toEqual(["order", "conversion_cancel"]);
    expect(await rowOf(SHOP, ORDER_ID, "refund:509562969")).toMatchObject({ status: "delivered" });
  });

  it("GIVEN a reversal that failed THEN Retry is offered and queues it once; a skipped reversal offers nothing", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    lifecycle.sandbox.setBehavior({ mode: "fail", status: 422, remaining: 1 }, "api");
    await sendWebhook(SHOP, "orders/cancelled", order);
    await drain();
    const cancel = (await rowOf(SHOP, ORDER_ID, "cancel"))!;
    expect(cancel.status).toBe("failed");
    expect((await loadDeliveryDetail(SHOP, cancel.id))!.retryAction).toBe("Retry");

    const clicks = await Promise.all([retryFromAdmin(SHOP, cancel.id), retryFromAdmin(SHOP, cancel.id)]);
    expect(clicks.filter((click) => click.found && click.queued)).toHaveLength(1);
    await drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect(await rowOf(SHOP, ORDER_ID, "cancel")).toMatchObject({ status: "delivered" });

    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    const skippedRefund = (await rowOf(SHOP, ORDER_ID, "refund:509562969"))!;
    expect(skippedRefund.status).toBe("skipped");
    expect((await loadDeliveryDetail(SHOP, skippedRefund.id))!.retryAction).toBeNull();
    expect(await retryDelivery(SHOP, { deliveryId: skippedRefund.id })).toEqual({ ok: false, reason: "not_retryable" });
  });
});

describe("what a Retry or a resend must not undo", () => {
  it("GIVEN a failed refund whose items a later cancellation took back WHEN the refund is retried THEN it is planned again and sends nothing twice", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    // Refersion refuses the refund's cancel once (a permanent 422)...
    lifecycle.sandbox.setBehavior({ mode: "fail", status: 422, remaining: 1 }, "api");
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await drain();
    const refund = (await rowOf(SHOP, ORDER_ID, "refund:509562969"))!;
    expect(refund.status).toBe("failed");
    // ...then the order is cancelled: that takes back every item, the refunded ones among them.
    await sendWebhook(SHOP, "orders/cancelled", order);
    await drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect(acceptedCancels(lifecycle.sandbox)[0].items.map((item) => item.sku).sort()).toEqual(["IPOD2008BLACK", "IPOD2008GREEN", "IPOD2008RED"]);

    expect(await retryDelivery(SHOP, { deliveryId: refund.id })).toMatchObject({ ok: false, reason: "still_skipped", reasonCode: "refunded_items_not_credited" });
    await drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect(await rowOf(SHOP, ORDER_ID, "refund:509562969")).toMatchObject({ status: "skipped", requestBody: null });
  });

  it("GIVEN a cancellation recorded between a resend's checks and its update THEN the resend does nothing", async () => {
    await configureLifecycleShop(SHOP, { reverseCancellations: false });
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await drain();
    const delivered = await orderRow();
    // What the resend read before the cancellation locked (and so touched) the order's row.
    await configureLifecycleShop(SHOP, { reverseCancellations: true });
    await sendWebhook(SHOP, "orders/cancelled", order);
    const { count } = await prisma.delivery.updateMany({
      where: { id: delivered.id, shop: SHOP, status: "delivered", updatedAt: delivered.updatedAt },
      data: { status: "pending" },
    });
    expect(count).toBe(0);
    // And through the front door: refused, with why.
    expect(await retryDelivery(SHOP, { deliveryId: delivered.id })).toEqual({ ok: false, reason: "cancelled" });
  });

  it("GIVEN an order whose buyer was redacted WHEN a resend reads it from Shopify again THEN the buyer's data stays removed, in what is stored and what is sent", async () => {
    await configureLifecycleShop(SHOP, { forwardingEnabled: false });
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    expect((await orderRow()).status).toBe("skipped");
    const customer = order.customer as { id: number; email: string };
    await redactCustomer(SHOP, { shop_domain: SHOP, customer: { id: customer.id, email: customer.email }, orders_to_redact: [Number(ORDER_ID)] });
    const redacted = await orderRow();
    expect(redacted.personalDataRemovedAt).not.toBeNull();

    await configureLifecycleShop(SHOP, { forwardingEnabled: true });
    expect(await requeueOrder(SHOP, ORDER_ID, { payload: order })).toMatchObject({ requeued: true, status: "pending" });
    const requeued = await orderRow();
    expect(requeued.personalDataRemovedAt).toEqual(redacted.personalDataRemovedAt);
    expect(requeued.orderPayload).not.toContain(customer.email);
    await drain();
    const [sent] = lifecycle.sandbox.orders();
    expect(JSON.stringify(sent.body)).not.toContain(customer.email);
    expect(sent.body).not.toHaveProperty("customer.email");
  });
});
