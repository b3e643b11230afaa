import prisma from "~/db.server";
import { orderFixture } from "../support/fixtures";
import {
  acceptedCancels,
  configureLifecycleShop,
  refundPayload,
  rowOf,
  rowsOf,
  sendWebhook,
  useLifecycleHarness,
  withOrderId,
} from "../support/order-lifecycle";
import { settleAllReversalsAwaitingOrders } from "~/reversals/store.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { describeReason } from "~/admin/delivery-reasons";
import { loadDeliveryDetail } from "~/admin/deliveries-page.server";
import { createConfiguredWorker } from "~/background/background-work.server";

const SHOP = "reversals.myshopify.com";
const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";
const INR_CANCELLED = "real-inr-order-1005-cancelled-freeship-2024.json";

const lifecycle = useLifecycleHarness({ configureShop: SHOP });
const worker = lifecycle.worker;

/** Records the order through orders/create and has the worker deliver it to the stand-in. */
async function deliveredOrder(order: Record<string, unknown>) {
  expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
  await worker().drain();
  const row = await rowOf(SHOP, String(order.id), "order");
  expect(row?.status).toBe("delivered");
  return JSON.parse(row!.requestBody!) as { order_id: string; currency_code: string; items: { sku: string; quantity: number; price: number }[] };
}

/**
 * orders/create for an order whose refund arrived first, then the worker: delivering the order
 * plans the refunds set aside for it.
 */
async function deliveredOrderRecordedBy(order: Record<string, unknown>) {
  expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
  await worker().drain();
  const row = await rowOf(SHOP, String(order.id), "order");
  expect(row?.status).toBe("delivered");
  return JSON.parse(row!.requestBody!) as { items: { sku: string; quantity: number; price: number }[] };
}

describe("refunds/create", () => {
  it("GIVEN a delivered order WHEN Shopify's own refund of two of its three items arrives THEN just those items are cancelled, at the prices sent", async () => {
    const order = orderFixture(DOCS_ORDER);
    const sent = await deliveredOrder(order);
    // The refund Shopify's docs show for this very order: the black and the green iPod, 209.00 back.
    const refund = (order.refunds as Record<string, unknown>[])[0];

    expect((await sendWebhook(SHOP, "refunds/create", refund, { webhookId: "refund-1" })).status).toBe(200);
    const row = await rowOf(SHOP, "450789469", "refund:509562969");
    expect(row).toMatchObject({ status: "pending", orderName: "#1001", currency: "USD", totalAmount: "-398.00" });

    await worker().drain();
    const price = (sku: string) => sent.items.find((item) => item.sku === sku)!.price;
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([
      {
        order_id: "450789469",
        items: [
          { sku: "IPOD2008BLACK", quantity: 1, price: price("IPOD2008BLACK") },
          { sku: "IPOD2008GREEN", quantity: 1, price: price("IPOD2008GREEN") },
        ],
      },
    ]);
    expect(await rowOf(SHOP, "450789469", "refund:509562969")).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
  });

  it("GIVEN a partial refund THEN the order's cancellation afterwards cancels only what is left", async () => {
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await sendWebhook(SHOP, "orders/cancelled", { ...order, cancelled_at: "2026-11-21T10:00:00-05:00", cancel_reason: "customer" });
    await worker().drain();

    const cancels = acceptedCancels(lifecycle.sandbox);
    expect(cancels).toHaveLength(2);
    expect(cancels[1]).toEqual({ order_id: "450789469", items: [{ sku: "IPOD2008RED", quantity: 1, price: 199 }] });
  });

  it("GIVEN one unit of a line of two is refunded THEN one unit is cancelled, and a second refund of the other unit cancels the second", async () => {
    const order = withOrderId(orderFixture(INR_CANCELLED), 7_100_001);
    const sent = await deliveredOrder(order);
    await sendWebhook(SHOP, "refunds/create", refundPayload(order, 91, [{ index: 0, quantity: 1 }]));
    await sendWebhook(SHOP, "refunds/create", refundPayload(order, 92, [{ index: 0, quantity: 2 }]));
    await worker().drain();

    const line = sent.items[0];
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([
      { order_id: "7100001", items: [{ sku: line.sku, quantity: 1, price: line.price }] },
      // Asked for 2, but only 1 unit is still credited.
      { order_id: "7100001", items: [{ sku: line.sku, quantity: 1, price: line.price }] },
    ]);
  });

  it.each([
    ["restocks items without giving money back", { money: false }, /No money was refunded/],
    ["gives back zero", { amount: "0.00" }, /No money was refunded/],
  ])("GIVEN a refund that %s THEN nothing is sent and it is recorded as skipped with why", async (_name, options, sentence) => {
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    const refund = refundPayload(order, 93, [{ index: 1, quantity: 1, restockType: "return" }], options);
    expect((await sendWebhook(SHOP, "refunds/create", refund)).status).toBe(200);
    await worker().drain();

    expect(acceptedCancels(lifecycle.sandbox)).toEqual([]);
    const row = await rowOf(SHOP, "450789469", "refund:93");
    expect(row).toMatchObject({ status: "skipped", requestBody: null, attempts: 0 });
    expect(row!.reasonCode).toBe("no_money_refunded");
    expect(describeReason(row!.reasonCode, row!.reasonDetail)).toMatch(sentence);
  });

  it("GIVEN Shopify sends the same refund twice THEN it is reversed once", async () => {
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    const refund = (order.refunds as unknown[])[0];
    await Promise.all([sendWebhook(SHOP, "refunds/create", refund, { webhookId: "same" }), sendWebhook(SHOP, "refunds/create", refund, { webhookId: "again" })]);
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect((await rowsOf(SHOP)).map((row) => row.kind)).toEqual(["order", "refund:509562969"]);
  });

  it("GIVEN reversing refunds is switched off THEN the refund is recorded as skipped and nothing is sent", async () => {
    await configureLifecycleShop(SHOP, { reverseRefunds: false });
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([]);
    expect((await rowOf(SHOP, "450789469", "refund:509562969"))?.reasonCode).toBe("refunds_off");
  });
});

describe("orders/cancelled", () => {
  it("GIVEN a delivered order WHEN it is cancelled THEN every item is cancelled exactly as it was sent", async () => {
    const order = orderFixture(DOCS_ORDER);
    const sent = await deliveredOrder(order);
    expect((await sendWebhook(SHOP, "orders/cancelled", order)).status).toBe(200);
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([
      { order_id: "450789469", items: sent.items.map(({ sku, quantity, price }) => ({ sku, quantity, price })) },
    ]);
  });

  it("GIVEN the order is still being retried WHEN its cancellation arrives THEN the cancellation is sent only after the order was delivered", async () => {
    lifecycle.sandbox.setBehavior({ mode: "fail", status: 503, remaining: 1 }, "order");
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await worker().drain();
    expect((await rowOf(SHOP, "450789469", "order"))?.status).toBe("retrying");

    await sendWebhook(SHOP, "orders/cancelled", order);
    await worker().drain();
    // Refersion has not seen a cancellation of an order it does not have yet.
    expect(lifecycle.sandbox.received.map((r) => r.endpoint)).toEqual(["order"]);
    // It runs after the order's row (data, not a sentence), and the log says what it waits for.
    const waiting = await rowOf(SHOP, "450789469", "cancel");
    expect(waiting).toMatchObject({ status: "pending", attempts: 0, reasonCode: null, runsAfterId: (await rowOf(SHOP, "450789469", "order"))!.id });
    expect((await loadDeliveryDetail(SHOP, waiting!.id))?.explanation.reason).toBe("Waiting for the order itself to be delivered");

    // The order's retry is due after 22.5 s; the cancellation goes once the order is delivered.
    lifecycle.clock.advance(23_000);
    await worker().drain();
    lifecycle.clock.advance(10_000);
    await worker().drain();

    expect(lifecycle.sandbox.received.map((r) => `${r.endpoint} ${r.status}`)).toEqual(["order 503", "order 200", "conversion_cancel 200"]);
    expect(await rowOf(SHOP, "450789469", "cancel")).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("GIVEN Shopify cancels and fully refunds an order (refunds/create and orders/cancelled) THEN each item is reversed once", async () => {
    // The real orders/cancelled body of a refunded INR order, and its real refund.
    const order = orderFixture(INR_CANCELLED);
    const sent = await deliveredOrder(order);
    const refund = (order.refunds as unknown[])[0];
    await Promise.all([sendWebhook(SHOP, "orders/cancelled", order), sendWebhook(SHOP, "refunds/create", refund)]);
    await worker().drain();

    const reversed = acceptedCancels(lifecycle.sandbox).flatMap((body) => body.items);
    expect(reversed.sort((a, b) => String(a.sku).localeCompare(String(b.sku)))).toEqual(
      sent.items.map(({ sku, quantity, price }) => ({ sku, quantity, price })).sort((a, b) => a.sku.localeCompare(b.sku)),
    );
    const skipped = (await rowsOf(SHOP)).filter((row) => row.status === "skipped");
    expect(skipped).toHaveLength(1);
    // Whichever of the two was planned second found nothing left to take back.
    expect(["already_reversed_by_refunds", "refunded_items_not_credited"]).toContain(skipped[0].reasonCode);
    expect(describeReason(skipped[0].reasonCode, skipped[0].reasonDetail)).toMatch(/already reversed/);
  });

  it("GIVEN orders/cancelled arrives before orders/create THEN the order is recorded as skipped, and its orders/create and orders/paid are never sent", async () => {
    const order = orderFixture(DOCS_ORDER);
    expect((await sendWebhook(SHOP, "orders/cancelled", { ...order, cancelled_at: "2026-11-21T10:00:00-05:00" })).status).toBe(200);
    expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
    expect((await sendWebhook(SHOP, "orders/paid", order)).status).toBe(200);
    await worker().drain();

    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await rowsOf(SHOP)).map((row) => [row.kind, row.status, row.reasonCode, row.orderName, row.requestBody])).toEqual([
      ["order", "skipped", "cancelled_before_received", "#1001", null],
    ]);
  });

  it("GIVEN orders/cancelled and orders/create arrive at the same time THEN either nothing is sent, or the order is sent and then cancelled", async () => {
    const order = withOrderId(orderFixture(DOCS_ORDER), 7_300_001);
    await Promise.all([sendWebhook(SHOP, "orders/cancelled", order), sendWebhook(SHOP, "orders/create", order)]);
    await worker().drain();

    const endpoints = lifecycle.sandbox.received.filter((r) => r.accepted).map((r) => r.endpoint);
    expect([[], ["order", "conversion_cancel"]]).toContainEqual(endpoints);
  });

  it("GIVEN refunds/create arrives before orders/create THEN the refund waits for the order, and is reversed after the order is sent", async () => {
    const order = orderFixture(DOCS_ORDER);
    expect((await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0])).status).toBe(200);
    const waiting = await rowOf(SHOP, "450789469", "refund:509562969");
    expect(waiting).toMatchObject({ status: "skipped", reasonCode: "awaiting_order", requestBody: null });
    // Waiting costs nothing: the worker does not look at it.
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);

    const sent = await deliveredOrderRecordedBy(order);
    // The refund, due with the order, looks again once it was delivered.
    lifecycle.clock.advance(30_000);
    await worker().drain();
    expect(await rowOf(SHOP, "450789469", "refund:509562969")).toMatchObject({ status: "delivered", orderName: "#1001", totalAmount: "-398.00" });
    const price = (sku: string) => sent.items.find((item) => item.sku === sku)!.price;
    expect(lifecycle.sandbox.received.map((r) => r.endpoint)).toEqual(["order", "conversion_cancel"]);
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([
      { order_id: "450789469", items: [{ sku: "IPOD2008BLACK", quantity: 1, price: price("IPOD2008BLACK") }, { sku: "IPOD2008GREEN", quantity: 1, price: price("IPOD2008GREEN") }] },
    ]);
  });

  it("GIVEN the process that delivered the order stopped before settling its early refund THEN the hourly sweep plans it, and it is sent once", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await sendWebhook(SHOP, "orders/create", order);
    // A worker without the after-delivery step: as if it stopped between the two.
    const interrupted = createConfiguredWorker({
      now: lifecycle.clock.now,
      random: () => 0.5,
      onDelivered: undefined,
      config: { webhookUrl: lifecycle.sandbox.webhookUrl, apiUrl: lifecycle.sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 30_000, leaseMs: 60_000, concurrency: 4, pollMs: 50 },
    });
    await interrupted.drain();
    expect(await rowOf(SHOP, "450789469", "order")).toMatchObject({ status: "delivered" });
    expect(await rowOf(SHOP, "450789469", "refund:509562969")).toMatchObject({ status: "skipped", reasonCode: "awaiting_order" });

    expect(await settleAllReversalsAwaitingOrders(lifecycle.clock.now())).toBe(1);
    expect(await settleAllReversalsAwaitingOrders(lifecycle.clock.now())).toBe(0);
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toHaveLength(1);
    expect(await rowOf(SHOP, "450789469", "refund:509562969")).toMatchObject({ status: "delivered" });
  });

  it("GIVEN a refund and then the cancellation arrive before orders/create THEN nothing is ever sent, and the refund says why", async () => {
    const order = orderFixture(INR_CANCELLED);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await sendWebhook(SHOP, "orders/create", order);
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await rowsOf(SHOP)).map((row) => [row.kind.split(":")[0], row.status, row.reasonCode])).toEqual([
      ["refund", "skipped", "predecessor_not_delivered"],
      ["order", "skipped", "cancelled_before_received"],
    ]);
  });

  it("GIVEN an order the app never receives (e.g. from before it was installed) THEN its refund stays set aside, and a refund or cancellation not to be reversed records nothing", async () => {
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "refunds/create", (order.refunds as unknown[])[0]);
    lifecycle.clock.advance(7 * 24 * 3_600_000);
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await rowsOf(SHOP)).map((row) => [row.kind, row.status, row.attempts])).toEqual([["refund:509562969", "skipped", 0]]);

    await configureLifecycleShop(SHOP, { reverseCancellations: false, reverseRefunds: false });
    const other = withOrderId(orderFixture(DOCS_ORDER), 7_300_002);
    await sendWebhook(SHOP, "orders/cancelled", other);
    await sendWebhook(SHOP, "refunds/create", { ...((other.refunds as Record<string, unknown>[])[0]), id: 7_300_003, admin_graphql_api_id: "gid://shopify/Refund/7300003", order_id: other.id });
    expect(await prisma.delivery.count()).toBe(1);
  });

  it("GIVEN a test order that was skipped THEN its cancellation is recorded as skipped and nothing is sent", async () => {
    await configureLifecycleShop(SHOP, { forwardTestOrders: false });
    const order = orderFixture(INR_CANCELLED);
    await sendWebhook(SHOP, "orders/create", order);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    const cancel = await rowOf(SHOP, "5364772372694", "cancel");
    expect(cancel?.reasonCode).toBe("predecessor_not_delivered");
    expect(describeReason(cancel?.reasonCode, cancel?.reasonDetail)).toMatch(/never delivered/);
  });

  it("GIVEN the order still waits for keys WHEN it is cancelled THEN the order itself is skipped and nothing is ever sent", async () => {
    await prisma.shopSettings.deleteMany();
    // Installed, no keys saved yet: webhooks of a shop that never installed the app store nothing.
    await markShopInstalled(SHOP);
    const order = orderFixture(DOCS_ORDER);
    await sendWebhook(SHOP, "orders/create", order);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await configureLifecycleShop(SHOP);
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await rowsOf(SHOP)).map((row) => [row.kind, row.status, row.reasonCode, describeReason(row.reasonCode, row.reasonDetail)])).toEqual([
      ["order", "skipped", "cancelled_before_sent", "The order was cancelled in Shopify before it could be sent"],
    ]);
  });

  it("GIVEN reversing cancellations is switched off THEN the cancellation is recorded as skipped and nothing is sent", async () => {
    await configureLifecycleShop(SHOP, { reverseCancellations: false });
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([]);
    expect(await rowOf(SHOP, "450789469", "cancel")).toMatchObject({ status: "skipped", reasonCode: "cancellations_off" });
  });
});

describe("the lifecycle webhook routes", () => {
  it.each(["orders/cancelled", "refunds/create", "orders/paid"] as const)("%s answers 401 to a forged signature and records nothing", async (topic) => {
    const order = orderFixture(DOCS_ORDER);
    await deliveredOrder(order);
    const payload = topic === "refunds/create" ? (order.refunds as unknown[])[0] : order;
    expect((await sendWebhook(SHOP, topic, payload, { forgeWith: "not-the-app-secret" })).status).toBe(401);
    expect(await prisma.delivery.count()).toBe(1);
  });

  it.each(["orders/cancelled", "refunds/create", "orders/paid"] as const)("%s answers 405 to GET", async (topic) => {
    expect((await sendWebhook(SHOP, topic, "", { method: "GET" })).status).toBe(405);
  });

  it("refuses a signed refund naming no order (422), and records nothing", async () => {
    expect((await sendWebhook(SHOP, "refunds/create", { id: 1, order_id: "not an id" }, { webhookId: "refund-bad-order-id" })).status).toBe(422);
    expect(await prisma.delivery.findMany({ select: { kind: true, status: true, webhookId: true } })).toEqual([]);
  });
});

describe("signed reversal webhooks that cannot be read", () => {
  it("GIVEN invalid JSON THEN each is acknowledged and recorded as failed with the reason; a payload naming no order or refund is refused (422); nothing is sent", async () => {
    const cases = [
      { topic: "orders/cancelled", webhookId: "cancel-not-json", body: '{"id": 45', kind: "cancel", reason: /not valid JSON/ },
      { topic: "orders/cancelled", webhookId: "cancel-no-id", body: JSON.stringify({ name: "#1001", line_items: [] }), kind: "cancel", reason: /no id/ },
      { topic: "refunds/create", webhookId: "refund-not-json", body: "[1, 2", kind: "refund:unreadable", reason: /not valid JSON/ },
      { topic: "refunds/create", webhookId: "refund-no-order", body: JSON.stringify({ id: 7, refund_line_items: "none" }), kind: "refund:unreadable", reason: /./ },
    ] as const;
    // Not a cancellation or a refund at all: refused before anything is recorded (test/webhooks/signed-bodies.test.ts).
    const refused = (webhookId: string) => webhookId.endsWith("-no-id") || webhookId.endsWith("-no-order");
    for (const { topic, webhookId, body } of cases) {
      expect((await sendWebhook(SHOP, topic, body, { webhookId })).status).toBe(refused(webhookId) ? 422 : 200);
    }
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    for (const { webhookId, kind, reason } of cases) {
      const row = await prisma.delivery.findFirst({ where: { shop: SHOP, webhookId } });
      if (refused(webhookId)) {
        expect(row, webhookId).toBeNull();
        continue;
      }
      expect(row, webhookId).toMatchObject({ kind, status: "failed", orderId: `unreadable-${webhookId}`, requestBody: null });
      expect(row!.reasonCode, webhookId).toBe("unreadable_webhook");
      expect(describeReason(row!.reasonCode, row!.reasonDetail), webhookId).toMatch(reason);
      expect(row!.sourceExcerpt, webhookId).toBeTruthy();
    }
    // The same bytes again (Shopify's retry): still one row each.
    await sendWebhook(SHOP, "orders/cancelled", cases[0].body, { webhookId: cases[0].webhookId });
    expect(await prisma.delivery.count({ where: { shop: SHOP, webhookId: cases[0].webhookId } })).toBe(1);
  });
});
