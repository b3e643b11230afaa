import prisma from "~/db.server";
import { describeReason } from "~/admin/delivery-reasons";
import { orderFixture } from "../support/fixtures";
import {
  acceptedCancels,
  configureLifecycleShop,
  rowOf,
  rowsOf,
  sendWebhook,
  useLifecycleHarness,
  withOrderId,
} from "../support/order-lifecycle";

const SHOP = "paid-trigger.myshopify.com";
const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";

const lifecycle = useLifecycleHarness();
const worker = lifecycle.worker;

/** The docs order under a new id, as orders/create sees it (not paid yet) and as orders/paid sees it. */
function orderPair(orderId: number): { created: Record<string, unknown>; paid: Record<string, unknown> } {
  const order = withOrderId(orderFixture(DOCS_ORDER), orderId);
  return { created: { ...order, financial_status: "pending" }, paid: { ...order, financial_status: "paid" } };
}

const sentOrderIds = () => lifecycle.sandbox.orders().map((request) => (request.body as { order_id: string }).order_id);

describe('forward trigger "created" (the default)', () => {
  beforeEach(() => configureLifecycleShop(SHOP, { forwardTrigger: "created" }));

  it("GIVEN orders/create THEN the order is sent at once, and its orders/paid changes nothing", async () => {
    const { created, paid } = orderPair(8_000_001);
    await sendWebhook(SHOP, "orders/create", created);
    expect((await rowOf(SHOP, "8000001", "order"))?.status).toBe("pending");
    await worker().drain();
    await sendWebhook(SHOP, "orders/paid", paid);
    await worker().drain();
    expect(sentOrderIds()).toEqual(["8000001"]);
    expect(await rowsOf(SHOP)).toHaveLength(1);
  });

  it("GIVEN orders/create never arrived THEN orders/paid records the order, and a late orders/create changes nothing", async () => {
    const { created, paid } = orderPair(8_000_002);
    await sendWebhook(SHOP, "orders/paid", paid, { webhookId: "paid-webhook" });
    expect(await rowOf(SHOP, "8000002", "order")).toMatchObject({ status: "pending", webhookId: "paid-webhook" });
    await sendWebhook(SHOP, "orders/create", created);
    await worker().drain();
    expect(sentOrderIds()).toEqual(["8000002"]);
  });
});

describe('forward trigger "paid"', () => {
  beforeEach(() => configureLifecycleShop(SHOP, { forwardTrigger: "paid" }));

  it("GIVEN an unpaid order THEN it waits for payment, and orders/paid sends it once", async () => {
    const { created, paid } = orderPair(8_000_003);
    await sendWebhook(SHOP, "orders/create", created);
    expect(await rowOf(SHOP, "8000003", "order")).toMatchObject({ status: "waiting_for_payment", reasonCode: null });
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);

    await sendWebhook(SHOP, "orders/paid", paid);
    expect((await rowOf(SHOP, "8000003", "order"))?.status).toBe("pending");
    await sendWebhook(SHOP, "orders/paid", paid);
    await worker().drain();
    expect(sentOrderIds()).toEqual(["8000003"]);
  });

  it("GIVEN an order paid at checkout THEN orders/create sends it at once, and orders/paid changes nothing", async () => {
    const { paid } = orderPair(8_000_004);
    await sendWebhook(SHOP, "orders/create", paid);
    expect((await rowOf(SHOP, "8000004", "order"))?.status).toBe("pending");
    await sendWebhook(SHOP, "orders/paid", paid);
    await worker().drain();
    expect(sentOrderIds()).toEqual(["8000004"]);
  });

  it("GIVEN the order changed before it was paid THEN what is sent is the order as paid", async () => {
    const { created, paid } = orderPair(8_000_005);
    const lines = paid.line_items as Record<string, unknown>[];
    await sendWebhook(SHOP, "orders/create", created);
    // Edited before payment: one line removed.
    await sendWebhook(SHOP, "orders/paid", { ...paid, line_items: lines.slice(1) });
    await worker().drain();
    const [sent] = lifecycle.sandbox.orders();
    expect((sent.body as { items: unknown[] }).items).toHaveLength(lines.length - 1);
  });

  it("GIVEN an unpaid order is cancelled THEN the order is skipped and nothing ever reaches Refersion", async () => {
    const { created, paid } = orderPair(8_000_006);
    await sendWebhook(SHOP, "orders/create", created);
    await sendWebhook(SHOP, "orders/cancelled", { ...created, cancelled_at: "2026-11-21T10:00:00-05:00" });
    await sendWebhook(SHOP, "orders/paid", paid);
    await worker().drain();
    expect(lifecycle.sandbox.received).toEqual([]);
    expect((await rowsOf(SHOP)).map((row) => [row.kind, row.status, row.reasonCode, describeReason(row.reasonCode, row.reasonDetail)])).toEqual([
      ["order", "skipped", "cancelled_before_paid", "The order was cancelled in Shopify before it was paid"],
    ]);
  });

  it("GIVEN a refund recorded while the order waited for its keys THEN it cancels what the order finally sends", async () => {
    await prisma.shopSettings.deleteMany();
    await configureLifecycleShop(SHOP, { forwardTrigger: "paid" });
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { publicKey: null, secretKeyCiphertext: null } });
    const { created, paid } = orderPair(8_000_007);
    await sendWebhook(SHOP, "orders/create", created);
    await sendWebhook(SHOP, "orders/paid", paid);
    expect((await rowOf(SHOP, "8000007", "order"))?.status).toBe("waiting_for_keys");
    const refund = (paid.refunds as Record<string, unknown>[])[0];
    await sendWebhook(SHOP, "refunds/create", { ...refund, order_id: 8_000_007 });
    expect((await rowOf(SHOP, "8000007", "refund:509562969"))?.status).toBe("pending");

    // Saving the keys (in the presentment currency, for a change) maps the order again.
    await configureLifecycleShop(SHOP, { forwardTrigger: "paid", currency: "presentment" });
    const { releaseOrdersWaitingForKeys } = await import("~/orders/release.server");
    expect(await releaseOrdersWaitingForKeys(SHOP)).toBe(1);
    await worker().drain();
    lifecycle.clock.advance(30_000);
    await worker().drain();

    const sent = lifecycle.sandbox.orders()[0].body as { items: { sku: string; price: number }[] };
    const [cancel] = acceptedCancels(lifecycle.sandbox);
    expect(cancel.items.map((item) => item.sku).sort()).toEqual(["IPOD2008BLACK", "IPOD2008GREEN"]);
    for (const item of cancel.items) expect(item.price).toBe(sent.items.find((line) => line.sku === item.sku)!.price);
  });
});

describe.each(["created", "paid"] as const)("trigger %s: orders/create and orders/paid arriving together", (trigger) => {
  beforeEach(() => configureLifecycleShop(SHOP, { forwardTrigger: trigger }));

  it("GIVEN both webhooks (each delivered twice) at the same moment THEN every order is recorded once and sent once", async () => {
    const ids = Array.from({ length: 6 }, (_, i) => 8_100_000 + i);
    await Promise.all(
      ids.flatMap((id) => {
        const { created, paid } = orderPair(id);
        return [
          sendWebhook(SHOP, "orders/create", created),
          sendWebhook(SHOP, "orders/paid", paid),
          sendWebhook(SHOP, "orders/paid", paid),
          sendWebhook(SHOP, "orders/create", created),
        ];
      }),
    );
    const rows = await rowsOf(SHOP);
    expect(rows).toHaveLength(ids.length);
    expect(new Set(rows.map((row) => row.status))).toEqual(new Set(["pending"]));

    await worker().drain();
    expect(sentOrderIds().sort()).toEqual(ids.map(String).sort());
  });
});
