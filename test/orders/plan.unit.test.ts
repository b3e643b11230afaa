/**
 * planOrder decides, for every way an order reaches the outbox, whether it is sent now, waits, or
 * is skipped and why. It is pure, so each case is one row: the trigger, the shop's settings and
 * the order, and the status and reason code it must plan.
 */
import fs from "node:fs";
import type { DeliveryReason, DeliveryStatus } from "@prisma/client";
import { checkoutTokenHash } from "~/attribution/click-report";
import { planOrder, type OrderTrigger } from "~/orders/plan";
import { DEFAULT_SETTINGS, type StoredSettings } from "~/settings/shop-settings.server";

// plan.ts takes its settings helpers from the settings' store module, which opens the database
// client when imported; planOrder itself never queries, so the client is replaced by nothing.
vi.mock("~/db.server", () => ({ default: {} }));

const ORDER = JSON.parse(fs.readFileSync(new URL("../fixtures/orders/shopify-docs-order-1001-2026-07.json", import.meta.url), "utf8")) as Record<string, unknown>;

const SETTINGS: StoredSettings = {
  ...DEFAULT_SETTINGS,
  shop: "plan-store.myshopify.com",
  publicKey: "pk_plan",
  secretKeyCiphertext: "sealed secret",
  secretKeyKeyId: "key-1",
  secretKeyLast4: "1234",
};

const order = (changes: Record<string, unknown> = {}) => ({ ...ORDER, ...changes });
const zeroValue = order({ line_items: [], total_price: "0.00", subtotal_price: "0.00", current_total_price: "0.00" });

interface Case {
  name: string;
  trigger: OrderTrigger;
  settings?: Partial<StoredSettings>;
  order: unknown;
  status: DeliveryStatus;
  reasonCode: DeliveryReason | null;
}

const CASES: Case[] = [
  { name: "an ordinary order is sent", trigger: "orders/create", order: order(), status: "pending", reasonCode: null },
  { name: "a test order is skipped", trigger: "orders/create", order: order({ test: true }), status: "skipped", reasonCode: "test_order" },
  {
    name: "a test order is sent when the shop forwards test orders",
    trigger: "orders/create",
    settings: { forwardTestOrders: true },
    order: order({ test: true }),
    status: "pending",
    reasonCode: null,
  },
  { name: "a zero-value order is skipped", trigger: "orders/create", order: zeroValue, status: "skipped", reasonCode: "zero_value" },
  {
    name: "an order of an uninstalled shop is skipped",
    trigger: "orders/create",
    settings: { uninstalledAt: new Date("2026-12-01T00:00:00Z") },
    order: order(),
    status: "skipped",
    reasonCode: "uninstalled_on_arrival",
  },
  {
    name: "an order arriving with forwarding off is skipped",
    trigger: "orders/create",
    settings: { forwardingEnabled: false },
    order: order(),
    status: "skipped",
    reasonCode: "forwarding_off_on_arrival",
  },
  {
    name: "an order of a shop without keys waits for them",
    trigger: "orders/create",
    settings: { publicKey: null, secretKeyCiphertext: null },
    order: order(),
    status: "waiting_for_keys",
    reasonCode: null,
  },
  {
    name: "with the paid trigger, an unpaid order waits for payment",
    trigger: "orders/create",
    settings: { forwardTrigger: "paid" },
    order: order({ financial_status: "pending" }),
    status: "waiting_for_payment",
    reasonCode: null,
  },
  {
    name: "with the paid trigger, a paid order is sent at creation",
    trigger: "orders/create",
    settings: { forwardTrigger: "paid" },
    order: order({ financial_status: "paid" }),
    status: "pending",
    reasonCode: null,
  },
  {
    name: "with the paid trigger, orders/paid sends the order",
    trigger: "orders/paid",
    settings: { forwardTrigger: "paid" },
    order: order({ financial_status: "paid" }),
    status: "pending",
    reasonCode: null,
  },
  {
    name: "with the paid trigger, a backfilled unpaid order waits for payment",
    trigger: "backfill",
    settings: { forwardTrigger: "paid" },
    order: order({ financial_status: "pending" }),
    status: "waiting_for_payment",
    reasonCode: null,
  },
  {
    name: "a backfilled cancelled order is skipped",
    trigger: "backfill",
    order: order({ cancelled_at: "2026-07-02T10:00:00-04:00" }),
    status: "skipped",
    reasonCode: "cancelled_before_resend",
  },
  {
    name: "a backfilled order refunded in full is skipped",
    trigger: "backfill",
    order: order({ financial_status: "refunded" }),
    status: "skipped",
    reasonCode: "refunded_before_resend",
  },
  {
    name: "a backfilled order whose payment was voided is skipped",
    trigger: "backfill",
    order: order({ financial_status: "voided" }),
    status: "skipped",
    reasonCode: "voided_before_resend",
  },
  {
    name: "a cancelled order arriving by webhook is judged by its own webhooks, not skipped here",
    trigger: "orders/create",
    order: order({ cancelled_at: "2026-07-02T10:00:00-04:00" }),
    status: "pending",
    reasonCode: null,
  },
  {
    name: "the shop's state comes before the order's: an uninstalled shop's test order is skipped as uninstalled",
    trigger: "backfill",
    settings: { uninstalledAt: new Date("2026-12-01T00:00:00Z") },
    order: order({ test: true, cancelled_at: "2026-07-02T10:00:00-04:00" }),
    status: "skipped",
    reasonCode: "uninstalled_on_arrival",
  },
];

describe("planOrder", () => {
  it.each(CASES)("$name ($trigger)", ({ trigger, settings, order: payload, status, reasonCode }) => {
    const plan = planOrder(payload, { ...SETTINGS, ...settings }, trigger);
    expect(plan).toMatchObject({ mapped: true, orderId: "450789469", status, reasonCode });
  });

  it("maps a sent order into the row's columns and Refersion's JSON", () => {
    const plan = planOrder(order(), SETTINGS, "orders/create");
    if (!plan.mapped) throw new Error(plan.reasonDetail);
    expect(plan.columns).toMatchObject({ orderName: "#1001", currency: expect.any(String), totalAmount: expect.any(String) });
    expect(JSON.parse(plan.columns.requestBody)).toMatchObject({ order_id: "450789469" });
  });

  it("records when the customer placed the order (a resent past order is charted on that day), or null without a readable created_at", () => {
    const plan = planOrder(order(), SETTINGS, "backfill");
    if (!plan.mapped) throw new Error(plan.reasonDetail);
    expect(plan.columns.orderPlacedAt?.toISOString()).toBe("2008-01-10T16:00:00.000Z");
    for (const created_at of [undefined, "yesterday", 12]) {
      const without = planOrder(order({ created_at }), SETTINGS, "orders/create");
      expect(without.mapped && without.columns.orderPlacedAt).toBeNull();
    }
  });

  it.each<[string, unknown, string | null]>([
    ["a payload that is not an order", "not an order", null],
    ["an order whose line items are not a list", { id: 5_000_001, line_items: "none" }, "5000001"],
  ])("records %s as failed and unmappable, with the mapping's message", (_name, payload, orderId) => {
    const plan = planOrder(payload, SETTINGS, "orders/create");
    expect(plan).toMatchObject({ mapped: false, orderId, status: "failed", reasonCode: "unmappable", reasonDetail: expect.stringMatching(/\S/) });
  });
});

describe("planOrder and the checkout pixel's click", () => {
  // A Buy it now order: no cart token, no _rfsn_cart, a checkout token.
  const buyItNow = order({ cart_token: null, discount_codes: [] });
  const CONNECTED: Partial<StoredSettings> = { pixelStatus: "connected", clickDataWaitMinutes: 5 };
  const hint = (token: string | null = String(ORDER.checkout_token)) => ({ affiliateId: "8908369", checkoutTokenHash: token === null ? null : checkoutTokenHash(token) });
  const sent = (plan: ReturnType<typeof planOrder>) => {
    if (!plan.mapped) throw new Error(plan.reasonDetail);
    return JSON.parse(plan.columns.requestBody) as Record<string, unknown>;
  };

  it("an order without a cart waits for click data while the shop's pixel runs, for the shop's window", () => {
    const plan = planOrder(buyItNow, { ...SETTINGS, ...CONNECTED }, "orders/create");
    expect(plan).toMatchObject({ status: "pending", reasonCode: "awaiting_click_data", clickWaitMs: 5 * 60_000, columns: { attributionSource: "none" } });
    expect(sent(plan)).not.toHaveProperty("auto_credit_affiliate_id");
  });

  it.each<[string, Partial<StoredSettings>, unknown, OrderTrigger]>([
    ["the pixel is not connected", { pixelStatus: null }, buyItNow, "orders/create"],
    ["the pixel was removed", { pixelStatus: "removed" }, buyItNow, "orders/create"],
    ["the window is 0", { ...CONNECTED, clickDataWaitMinutes: 0 }, buyItNow, "orders/create"],
    ["the order has a cart token", CONNECTED, order(), "orders/create"],
    ["the order has the storefront's _rfsn_cart", CONNECTED, order({ cart_token: null, note_attributes: [{ name: "_rfsn_cart", value: "c1-abc" }] }), "orders/create"],
    ["it is a past order resent", CONNECTED, buyItNow, "backfill"],
    ["it is released by the keys", CONNECTED, buyItNow, "keys_saved"],
  ])("no wait when %s", (_name, settings, payload, trigger) => {
    const plan = planOrder(payload, { ...SETTINGS, ...settings }, trigger);
    expect(plan).toMatchObject({ status: "pending", reasonCode: null, clickWaitMs: 0 });
  });

  it("with a hint from the same checkout: sent at once, auto_credit_affiliate_id from the click, source pixel, the derived cart id", () => {
    const plan = planOrder(buyItNow, { ...SETTINGS, ...CONNECTED }, "orders/create", { hints: [hint()] });
    expect(plan).toMatchObject({ status: "pending", reasonCode: null, clickWaitMs: 0, columns: { attributionSource: "pixel" } });
    expect(sent(plan)).toMatchObject({ auto_credit_affiliate_id: 8908369, cart_id: expect.stringMatching(/^ord-[0-9a-f]{40}$/) });
    // The discount code still goes with it; the source is the click.
    const withCode = planOrder(order({ cart_token: null }), SETTINGS, "orders/create", { hints: [hint()] });
    expect(withCode).toMatchObject({ columns: { attributionSource: "pixel" } });
    expect(sent(withCode)).toMatchObject({ auto_credit_affiliate_id: 8908369, discount_code: expect.any(String) });
  });

  it("a hint never changes an order with a cart token or _rfsn_cart", () => {
    const withToken = planOrder(order(), SETTINGS, "orders/create", { hints: [hint()] });
    expect(withToken).toMatchObject({ columns: { attributionSource: "cart_token" } });
    expect(sent(withToken)).not.toHaveProperty("auto_credit_affiliate_id");
    const withAttribute = planOrder(order({ cart_token: null, note_attributes: [{ name: "_rfsn_cart", value: "c1-abc" }] }), SETTINGS, "orders/create", { hints: [hint()] });
    expect(withAttribute).toMatchObject({ columns: { attributionSource: "cart_attribute" } });
    expect(sent(withAttribute)).toMatchObject({ cart_id: "c1-abc" });
    expect(sent(withAttribute)).not.toHaveProperty("auto_credit_affiliate_id");
  });

  it("a hint naming another checkout, or none, is ignored for an order that names its checkout", () => {
    for (const other of [hint("another-checkout-token"), hint(null)]) {
      const plan = planOrder(buyItNow, { ...SETTINGS, ...CONNECTED }, "orders/create", { hints: [other] });
      expect(plan).toMatchObject({ reasonCode: "awaiting_click_data", columns: { attributionSource: "none" } });
      expect(sent(plan)).not.toHaveProperty("auto_credit_affiliate_id");
    }
    // An order without a checkout token (an API order) is matched by its id alone.
    const plan = planOrder(order({ cart_token: null, checkout_token: null, discount_codes: [] }), SETTINGS, "orders/create", { hints: [hint()] });
    expect(plan).toMatchObject({ columns: { attributionSource: "pixel" } });
  });

  it("records a discount code, or nothing, as the source of an order no cart or click credits", () => {
    expect(planOrder(order({ cart_token: null }), SETTINGS, "orders/create")).toMatchObject({ columns: { attributionSource: "discount_code" } });
    expect(planOrder(buyItNow, SETTINGS, "orders/create")).toMatchObject({ columns: { attributionSource: "none" } });
  });
});
