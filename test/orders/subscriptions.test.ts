import { toRestOrder } from "~/backfill/graphql-order";
import { mapOrderToConversion } from "~/refersion/mapping";
import { orderFixture } from "../support/fixtures";
import { graphqlOrderOf } from "../support/past-orders";
import { TEST_ENV } from "../support/test-env";
import {
  acceptedCancels,
  lifecycleWorker,
  refundPayload,
  sendWebhook,
  useLifecycleHarness,
  withOrderId,
} from "../support/order-lifecycle";

type Json = Record<string, unknown>;

const SHOP = "subscriptions.myshopify.com";
const RECHARGE = "real-usd-order-sbl1069-recharge-bundle-c1-cart-token-2023.json";
const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";

const lifecycle = useLifecycleHarness({ configureShop: SHOP });
let nextOrderId = 6_100_000;

/** orders/create through the route, the worker, and what the Refersion stand-in accepted. */
async function sentToRefersion(order: Json): Promise<Json> {
  expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
  await lifecycleWorker(lifecycle.sandbox, lifecycle.clock).drain();
  const accepted = lifecycle.sandbox.orders().find((request) => (request.body as Json).order_id === String(order.id));
  expect(accepted).toBeDefined();
  return accepted!.body as Json;
}

function docsOrder(orderId: number, change: (order: Json & { line_items: Json[] }) => void): Json {
  const order = withOrderId(orderFixture(DOCS_ORDER), orderId) as Json & { line_items: Json[] };
  order.line_items = order.line_items.map((line) => ({ ...line }));
  change(order);
  return order;
}

describe("subscription orders, end to end", () => {
  it("GIVEN the real Recharge bundle order (bundle properties only) THEN it is sent as a one-time order, and a refund of its items is reversed", async () => {
    // Recharge writes _rc_bundle* on one-time bundle purchases too; a subscribed line also carries its interval.
    const order = orderFixture(RECHARGE);
    const sent = await sentToRefersion(order);
    expect(sent).not.toHaveProperty("is_subscription");
    expect(sent).not.toHaveProperty("subscription_id");

    // The refunded meal is cancelled with the sku and unit price that were sent.
    await sendWebhook(SHOP, "refunds/create", refundPayload(order, 6_001, [{ index: 1, quantity: 1 }]));
    await lifecycleWorker(lifecycle.sandbox, lifecycle.clock).drain();
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([{ order_id: String(order.id), items: [{ sku: "90-32-01-IW", quantity: 1, price: 9.99 }] }]);
  });

  it.each([
    ["a Shopify subscription contract renewal (source_name)", (o: Json) => (o.source_name = "subscription_contract_checkout_one"), undefined],
    ["a Recharge renewal (order tag)", (o: Json) => (o.tags = "Subscription, Subscription Recurring Order"), undefined],
    ["a Seal order (order tag)", (o: Json) => (o.tags = "Seal Subscription"), undefined],
    ["a line bought with a selling plan (selling_plan_allocation)", (o: Json & { line_items: Json[] }) => (o.line_items[0].selling_plan_allocation = { selling_plan: { id: 690_108, name: "Monthly" } }), undefined],
  ])("GIVEN %s THEN it is sent as a subscription", async (_name, change, subscriptionId) => {
    const sent = await sentToRefersion(docsOrder(nextOrderId++, change as (o: Json & { line_items: Json[] }) => void));
    expect(sent.is_subscription).toBe(true);
    if (subscriptionId) expect(sent.subscription_id).toBe(subscriptionId);
    else expect(sent).not.toHaveProperty("subscription_id");
  });

  it("GIVEN an ordinary order THEN neither field is sent", async () => {
    const sent = await sentToRefersion(orderFixture(DOCS_ORDER));
    expect(sent).not.toHaveProperty("is_subscription");
    expect(sent).not.toHaveProperty("subscription_id");
  });

  it("GIVEN a past subscription order read through the Admin GraphQL API THEN the same markers survive the conversion", () => {
    const options = { shop: SHOP, currency: "shop" as const, includeCustomer: true, autoCreditAffiliate: false, cartIdSecret: TEST_ENV.SHOPIFY_API_SECRET };
    const subscribedBundle = orderFixture(RECHARGE) as Json & { line_items: Json[] };
    subscribedBundle.tags = "Subscription First Order";
    for (const order of [
      subscribedBundle,
      docsOrder(6_200_001, (o) => (o.tags = "appstle_subscription_recurring_order")),
      docsOrder(6_200_002, (o) => (o.source_name = "subscription_contract")),
    ]) {
      const viaGraphql = mapOrderToConversion(toRestOrder(graphqlOrderOf(order)), options);
      expect(viaGraphql).toEqual(mapOrderToConversion(order, options));
      expect(viaGraphql.ok && viaGraphql.conversion.is_subscription).toBe(true);
    }
  });

  it("GIVEN a first order that only carries Shopify's selling_plan_id (webhooks 2026-10) THEN it is not marked yet (the known gap in docs/mapping.md)", async () => {
    const sent = await sentToRefersion(docsOrder(6_300_001, (o) => (o.line_items[0].selling_plan_id = 690_108)));
    expect(sent).not.toHaveProperty("is_subscription");
  });
});
