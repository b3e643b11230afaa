import { ORDER_PAGE_QUERY, orderQuery, ordersSearchQuery, toRestOrder, type GqlOrder } from "~/backfill/graphql-order";
import { mapOrderToConversion } from "~/refersion/mapping";
import { parseOrderJson } from "~/refersion/shopify-order";
import { orderFixtureNames, orderFixtureText } from "../support/fixtures";
import { graphqlOrderOf } from "../support/past-orders";
import { TEST_ENV } from "../support/test-env";

type Json = Record<string, unknown>;

const options = (currency: "shop" | "presentment") => ({
  shop: "graphql-order.myshopify.com",
  currency,
  includeCustomer: true,
  autoCreditAffiliate: true,
  cartIdSecret: TEST_ENV.SHOPIFY_API_SECRET,
});

// Orders from before 2018 have no *_set amounts and no discount allocations; they are also
// beyond the 60 days of orders the read_orders scope lets an app read, so they are never resent.
const MODERN = orderFixtureNames().filter((name) => "total_price_set" in (parseOrderJson(orderFixtureText(name)) as Json));

describe("a past order read through the Admin GraphQL API", () => {
  it("covers every fixture with *_set amounts", () => {
    expect(MODERN.length).toBe(10);
  });

  describe.each(MODERN)("%s", (name) => {
    const rest = parseOrderJson(orderFixtureText(name)) as Json;
    const converted = toRestOrder(graphqlOrderOf(rest));

    it.each(["shop", "presentment"] as const)("maps to exactly the JSON its orders/create maps to (%s currency)", (currency) => {
      const fromWebhook = mapOrderToConversion(rest, options(currency));
      const fromGraphql = mapOrderToConversion(converted, options(currency));
      expect(fromGraphql).toEqual(fromWebhook);
    });
  });

  it("reads ids from the gids (exact beyond 2^53), amounts as Shopify's strings, and the other fields as the REST order names them", () => {
    const money = (amount: string) => ({ shopMoney: { amount, currencyCode: "AUD" }, presentmentMoney: { amount: `${amount}1`, currencyCode: "USD" } });
    const order: GqlOrder = {
      id: "gid://shopify/Order/820982911946154508",
      legacyResourceId: "820982911946154508",
      name: "#9999",
      createdAt: "2026-11-02T10:00:00Z",
      test: false,
      currencyCode: "AUD",
      presentmentCurrencyCode: "USD",
      taxesIncluded: true,
      displayFinancialStatus: "PARTIALLY_REFUNDED",
      cancelledAt: null,
      sourceName: "subscription_contract",
      tags: ["Subscription Recurring Order", "vip"],
      discountCodes: ["TENOFF"],
      cartToken: "c1-abc",
      customAttributes: [{ key: "_rfsn_aid", value: "42" }],
      subtotalPriceSet: money("10.0"),
      totalPriceSet: money("12.0"),
      totalTaxSet: money("1.0"),
      totalDiscountsSet: money("0.0"),
      taxLines: [{ rate: 0.1, title: "GST", priceSet: money("1.0") }],
      shippingLines: { nodes: [{ originalPriceSet: money("2.0"), discountedPriceSet: money("2.0"), taxLines: [], discountAllocations: [] }] },
      lineItems: {
        nodes: [
          {
            id: "gid://shopify/LineItem/115310627314723954",
            name: "Socks - red",
            title: "Socks",
            sku: "SOCK-R",
            quantity: 2,
            isGiftCard: false,
            originalUnitPriceSet: money("5.0"),
            customAttributes: [{ key: "subscription_id", value: "22093657" }],
            sellingPlan: { sellingPlanId: "gid://shopify/SellingPlan/690108" },
            taxLines: [],
            discountAllocations: [{ allocatedAmountSet: money("0.5") }],
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
      },
      email: "buyer@example.com",
      clientIp: "203.0.113.7",
      customer: { id: "gid://shopify/Customer/207119551", firstName: "Bo", lastName: "Buyer", email: "bo@example.com" },
      billingAddress: { firstName: "Bo", lastName: "Buyer" },
    };
    expect(toRestOrder(order)).toMatchObject({
      id: "820982911946154508",
      admin_graphql_api_id: "gid://shopify/Order/820982911946154508",
      currency: "AUD",
      presentment_currency: "USD",
      taxes_included: true,
      financial_status: "partially_refunded",
      source_name: "subscription_contract",
      tags: "Subscription Recurring Order, vip",
      discount_codes: [{ code: "TENOFF" }],
      cart_token: "c1-abc",
      note_attributes: [{ name: "_rfsn_aid", value: "42" }],
      total_price: "12.0",
      total_price_set: { shop_money: { amount: "12.0", currency_code: "AUD" }, presentment_money: { amount: "12.01", currency_code: "USD" } },
      line_items: [
        {
          id: "115310627314723954",
          sku: "SOCK-R",
          quantity: 2,
          gift_card: false,
          price: "5.0",
          properties: [{ name: "subscription_id", value: "22093657" }],
          selling_plan_id: "690108",
          discount_allocations: [{ amount: "0.5", amount_set: { shop_money: { amount: "0.5", currency_code: "AUD" }, presentment_money: { amount: "0.51", currency_code: "USD" } } }],
        },
      ],
      shipping_lines: [{ price: "2.0", discounted_price: "2.0" }],
      email: "buyer@example.com",
      browser_ip: "203.0.113.7",
      customer: { id: "207119551", first_name: "Bo", last_name: "Buyer", email: "bo@example.com" },
      billing_address: { first_name: "Bo", last_name: "Buyer" },
    });
  });

  it("leaves the buyer out entirely when the personal fields were not asked for", () => {
    const rest = parseOrderJson(orderFixtureText("shopify-docs-order-1001-2026-07.json")) as Json;
    const { email: _e, clientIp: _c, customer: _u, billingAddress: _b, ...withoutBuyer } = graphqlOrderOf(rest);
    const converted = toRestOrder(withoutBuyer as GqlOrder);
    expect(converted).not.toHaveProperty("customer");
    expect(converted).not.toHaveProperty("email");
    const mapped = mapOrderToConversion(converted, options("shop"));
    expect(mapped.ok && mapped.conversion.customer).toBeFalsy();
  });

  it("asks for the buyer's details only when told to, and pages within Shopify's single-query cost limit", () => {
    expect(orderQuery({ personalData: false })).not.toMatch(/clientIp|firstName|email/);
    expect(orderQuery({ personalData: true })).toMatch(/clientIp[\s\S]*customer \{ id firstName lastName email \}/);
    expect(ORDER_PAGE_QUERY).toMatch(/orders\(first: 50, after: \$after, query: \$query, sortKey: CREATED_AT\)/);
    expect(ordersSearchQuery(new Date("2026-11-01T00:00:00Z"), new Date("2026-11-20T23:59:59.999Z"))).toBe(
      "created_at:>='2026-11-01T00:00:00.000Z' created_at:<='2026-11-20T23:59:59.999Z'",
    );
  });
});
