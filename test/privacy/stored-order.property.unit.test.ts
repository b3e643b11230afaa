import fc from "fast-check";
import { minimiseOrder, storedOrderJson } from "../../app/orders/stored-order";
import { hasBeenPaid, pastOrderSkipReason } from "../../app/orders/payment-status";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { sentLinePositions } from "../../app/reversals/reversal-mapping";
import { FIXTURE_FILES, fixture, options, withoutSets, type Json } from "../refersion/order-fixtures";
import { ADA, orderBy, personalValuesOf } from "./buyers";

/**
 * The outbox stores only what the mapping, the payment rules and the reversals read
 * (app/orders/stored-order.ts). Whatever the order and the settings, the stored order must map
 * to exactly what the whole order maps to (the JSON, the summary, or the same error), be judged
 * paid / cancelled alike, and give the reversals the same line positions.
 */

const MAPPING_OPTIONS = fc.record({
  currency: fc.constantFrom("shop" as const, "presentment" as const),
  includeCustomer: fc.boolean(),
  autoCreditAffiliate: fc.boolean(),
});

/** What a buyer, the storefront or an app may add to an order, personal or not. */
const EXTRAS = fc.record(
  {
    note_attributes: fc.array(
      fc.record({
        name: fc.constantFrom("_rfsn_cart", "_rfsn_aid", " _rfsn_aid ", "gift_message", "subscription_id", "shopify_order_subscription_id"),
        value: fc.oneof(fc.string(), fc.stringMatching(/^\d{1,16}$/), fc.integer()),
      }),
      { maxLength: 4 },
    ),
    line_properties: fc.array(fc.record({ name: fc.constantFrom("Engraving", "subscription_id", "_rfsn_aid"), value: fc.string() }), { maxLength: 3 }),
    tags: fc.constantFrom("", "Subscription, vip", "Subscription Recurring Order", "wholesale"),
    source_name: fc.constantFrom("web", "subscription_contract", "pos", "shopify_draft_order"),
    financial_status: fc.constantFrom("paid", "pending", "authorized", "refunded", "voided", "partially_refunded"),
    cancelled_at: fc.constantFrom(null, "2024-03-01T10:00:00Z"),
    email: fc.constantFrom(null, "", ADA.email, "not an email"),
    browser_ip: fc.constantFrom(null, ADA.ip, "::1", "999.1.1.1"),
    customer: fc.constantFrom(
      null,
      { id: 1234, email: ADA.email, first_name: ADA.firstName, last_name: ADA.lastName, phone: ADA.phone },
      { admin_graphql_api_id: "gid://shopify/Customer/99", first_name: " ", default_address: { address1: ADA.street } },
      { id: "123456789012345678901" },
    ),
    billing_address: fc.constantFrom(null, { first_name: ADA.firstName, last_name: ADA.lastName, address1: ADA.street, phone: ADA.phone }),
    client_details: fc.constantFrom(null, { browser_ip: ADA.ip, user_agent: "Mozilla/5.0", accept_language: "en" }),
    selling_plan: fc.boolean(),
    no_sets: fc.boolean(),
  },
  { requiredKeys: [] },
);

function variantOf(base: Json, extras: Record<string, unknown>): Json {
  let order: Json = structuredClone(base);
  if (extras.no_sets) order = withoutSets(order);
  for (const key of ["tags", "source_name", "financial_status", "cancelled_at", "email", "browser_ip", "customer", "billing_address", "client_details", "note_attributes"]) {
    if (key in extras) order[key] = structuredClone(extras[key]);
  }
  if (Array.isArray(order.line_items)) {
    order.line_items = order.line_items.map((line: Json, index: number) => ({
      ...line,
      ...(extras.line_properties ? { properties: extras.line_properties } : {}),
      ...(extras.selling_plan && index === 0 ? { selling_plan_allocation: { selling_plan: { id: 1, name: "Monthly" } } } : {}),
      origin_location: { address1: ADA.street },
    }));
  }
  order.shipping_address = { first_name: ADA.firstName, address1: ADA.street, phone: ADA.phone };
  order.phone = ADA.phone;
  order.note = `Leave it with ${ADA.firstName}`;
  return order;
}

function sameOutcome(full: Json, mappingOverrides: Parameters<typeof options>[0]) {
  const stored: unknown = JSON.parse(storedOrderJson(full)!);
  const mappingOptions = options(mappingOverrides);
  expect(mapOrderToConversion(stored, mappingOptions)).toEqual(mapOrderToConversion(full, mappingOptions));
  expect(hasBeenPaid(stored)).toBe(hasBeenPaid(full));
  expect(pastOrderSkipReason(stored)).toBe(pastOrderSkipReason(full));
  const mapped = mapOrderToConversion(full, { ...mappingOptions, includeCustomer: false });
  if (mapped.ok) expect(sentLinePositions(stored, mapped.conversion.items)).toEqual(sentLinePositions(full, mapped.conversion.items));
}

describe("the order the outbox stores", () => {
  it.each(FIXTURE_FILES)("maps as the whole order does: %s", (file) => {
    for (const currency of ["shop", "presentment"] as const) {
      for (const includeCustomer of [true, false]) sameOutcome(fixture(file), { currency, includeCustomer, autoCreditAffiliate: true });
    }
  });

  it("maps as the whole order does for generated variants of every fixture", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURE_FILES), EXTRAS, MAPPING_OPTIONS, (file, extras, mappingOptions) => {
        sameOutcome(variantOf(fixture(file), extras), mappingOptions);
      }),
      { numRuns: 400, seed: 20261205 },
    );
  });

  it("keeps none of what nothing reads: shipping address, phone, notes, line locations, browser details but the IP", () => {
    const full = { ...orderBy(ADA, 501), phone: ADA.phone, note: `For ${ADA.street}`, note_attributes: [{ name: "gift_message", value: ADA.street }] };
    const stored = storedOrderJson(full)!;
    for (const value of [ADA.phone, ADA.street, "Louisville", "40202"]) expect(stored).not.toContain(value);
    const kept = minimiseOrder(full) as Json;
    expect(Object.keys(kept)).not.toContain("shipping_address");
    expect(kept.note_attributes).toEqual([]);
    // What Refersion's customer block needs stays (sealed at rest by the database layer).
    for (const value of personalValuesOf(ADA).filter((value) => value !== ADA.phone && value !== ADA.street)) expect(stored).toContain(value);
  });

  it("keeps what is not an order as it is", () => {
    for (const value of [null, "text", 12, [1, 2]]) expect(minimiseOrder(value)).toEqual(value);
  });
});
