/**
 * What counts as a buyer's personal data in a stored order, and the clean-up of stored excerpts:
 * free-text note attributes and line item properties lose their values, while everything the
 * mapping reads stays, so an order redacted while it waits is still sent the same way.
 */
import { mapOrderToConversion } from "~/refersion/mapping";
import { personalValuesIn, REMOVED, removePersonalDataFromOrder, removeValuesFromText } from "~/privacy/personal-data";
import { DOCS_ORDER, orderFixture } from "../support/fixtures";
import { ADA, orderBy } from "./buyers";

const RECHARGE_BUNDLE = "real-usd-order-sbl1069-recharge-bundle-c1-cart-token-2023.json";
const OPTIONS = { shop: "personal-data.myshopify.com", currency: "shop", includeCustomer: true, autoCreditAffiliate: true, cartIdSecret: "cart-id-secret" } as const;

type Json = Record<string, unknown>;

function mapped(order: unknown): Json {
  const result = mapOrderToConversion(order, OPTIONS);
  if (!result.ok) throw new Error(result.error.message);
  return result.conversion as unknown as Json;
}

/** ADA's order with what storefronts and subscription apps write beside the buyer's own words. */
function annotatedOrder(): Json {
  const order = orderBy(ADA, 9301);
  const lines = order.line_items as Json[];
  return {
    ...order,
    cart_token: null,
    note_attributes: [
      { name: "_rfsn_aid", value: "4242" },
      { name: "_rfsn_cart", value: "rfsn-cart-7f3a" },
      { name: "shopify_order_subscription_id", value: "sk-sub-991" },
      { name: "subscription_provider", value: "Skio" },
      { name: "Gift message", value: `Happy birthday ${ADA.firstName}, love from Mum` },
      { name: "Delivery instructions", value: `Leave with ${ADA.lastName} at number 21` },
    ],
    line_items: [
      {
        ...lines[0],
        properties: [
          { name: "Engraving", value: `${ADA.firstName} & Sam` },
          { name: "subscription_id", value: "38861234" },
          { name: "shipping_interval_frequency", value: "30" },
        ],
      },
      // The plain-object form some apps write, which the mapping also reads.
      { ...lines[1], properties: { Recipient: `${ADA.firstName} ${ADA.lastName}`, charge_interval_frequency: "30" } },
      ...lines.slice(2),
    ],
  };
}

describe("removePersonalDataFromOrder", () => {
  it("removes free-text note attribute and line item property values, keeping the names and what the mapping reads", () => {
    const order = annotatedOrder();
    const cleaned = removePersonalDataFromOrder(order) as Json;
    expect(cleaned.note_attributes).toEqual([
      { name: "_rfsn_aid", value: "4242" },
      { name: "_rfsn_cart", value: "rfsn-cart-7f3a" },
      { name: "shopify_order_subscription_id", value: REMOVED },
      { name: "subscription_provider", value: REMOVED },
      { name: "Gift message", value: REMOVED },
      { name: "Delivery instructions", value: REMOVED },
    ]);
    const [first, second, ...rest] = cleaned.line_items as Json[];
    expect(first.properties).toEqual([
      { name: "Engraving", value: REMOVED },
      { name: "subscription_id", value: REMOVED },
      { name: "shipping_interval_frequency", value: REMOVED },
    ]);
    expect(second.properties).toEqual({ Recipient: REMOVED, charge_interval_frequency: REMOVED });
    expect(rest).toEqual((order.line_items as Json[]).slice(2));
    // Lines keep everything else: prices, quantities, ids.
    expect({ ...first, properties: null }).toEqual({ ...(order.line_items as Json[])[0], properties: null });
    expect(JSON.stringify(cleaned)).not.toMatch(new RegExp(`${ADA.firstName}|${ADA.lastName}|${ADA.email}|${ADA.street}|Louisville|40202`));
  });

  it("leaves what is sent to Refersion the same but for the customer: affiliate, cart id, subscription, items, amounts", () => {
    for (const order of [annotatedOrder(), orderFixture(RECHARGE_BUNDLE), orderFixture(DOCS_ORDER)]) {
      const before = mapped(order);
      const after = mapped(removePersonalDataFromOrder(order));
      const { customer: _customer, ...kept } = before;
      expect(after).toEqual(kept);
    }
    const annotated = mapped(removePersonalDataFromOrder(annotatedOrder()));
    expect(annotated).toMatchObject({ auto_credit_affiliate_id: 4242, cart_id: "rfsn-cart-7f3a" });
  });
});

describe("removeValuesFromText", () => {
  const order = {
    ...orderBy(ADA, 9302),
    billing_address: { name: "Zoë O'Brien-Quenby", address1: ADA.street, address2: "Flat 3B", city: "Louisville", zip: "40202", company: "Quenby Tiles Ltd", phone: ADA.phone },
  };
  const values = personalValuesIn(order, null);

  it("finds the address in full: city, zip, second line and company too", () => {
    expect(values).toEqual(expect.arrayContaining(["Zoë O'Brien-Quenby", ADA.street, "Flat 3B", "Louisville", "40202", "Quenby Tiles Ltd", ADA.email, ADA.ip]));
  });

  it("replaces the values in any letter case and as JSON, \\u-escaped or URL-encoded", () => {
    const answer = [
      `unknown customer ${ADA.email.toUpperCase()}`,
      JSON.stringify({ name: "Zoë O'Brien-Quenby", said: 'He said "Flat 3B"' }),
      '{"n1":"Zo\\u00EB O\'Brien-Quenby","n2":"Zo\\u00eb O\'Brien-Quenby"}',
      `lookup?email=${encodeURIComponent(ADA.email)}&city=LOUISVILLE&zip=40202`,
      "ship to quenby tiles ltd",
    ].join("\n");
    const cleaned = removeValuesFromText(answer, values)!;
    expect(cleaned).toBe(
      [
        `unknown customer ${REMOVED}`,
        JSON.stringify({ name: REMOVED, said: `He said "${REMOVED}"` }),
        `{"n1":"${REMOVED}","n2":"${REMOVED}"}`,
        `lookup?email=${REMOVED}&city=${REMOVED}&zip=${REMOVED}`,
        `ship to ${REMOVED}`,
      ].join("\n"),
    );
  });

  it("leaves text without the values, and no values, alone", () => {
    expect(removeValuesFromText("Refersion answered 503", values)).toBe("Refersion answered 503");
    expect(removeValuesFromText(`mail ${ADA.email}`, [])).toBe(`mail ${ADA.email}`);
    expect(removeValuesFromText(null, values)).toBeNull();
  });
});
