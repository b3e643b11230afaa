/**
 * Nothing lost to a payload Refersion refuses: whatever order-shaped input the mapping accepts
 * and the intake would send (not zero-value), the JSON it produces passes Refersion's order
 * schema (app/refersion/order-json.ts, which the stand-in enforces: strict, no unknown fields,
 * non-blank ids, at least one item, numbers as JSON numbers). Anything else is a typed
 * MappingError, recorded at intake with its reason; never an exception.
 *
 * test/refersion/mapping.property.unit.test.ts checks amounts and shapes field by field; this adds
 * the contract with the receiver, which those invariants do not cover (e.g. an empty item list).
 */
import fc from "fast-check";
import { MappingError } from "~/refersion/conversion";
import { mapOrderToConversion } from "~/refersion/mapping";
import { OrderJsonSchema } from "~/refersion/order-json";
import { FIXTURE_FILES, fixture, options } from "../refersion/order-fixtures";

/** Where junk can land in a real order, top level and nested. */
const PATHS: (string | number)[][] = [
  ["id"], ["admin_graphql_api_id"], ["name"], ["currency"], ["presentment_currency"], ["total_price"], ["subtotal_price"],
  ["total_tax"], ["total_discounts"], ["taxes_included"], ["test"], ["cart_token"], ["note_attributes"], ["discount_codes"],
  ["email"], ["browser_ip"], ["customer"], ["source_name"], ["tags"], ["line_items"], ["shipping_lines"],
  ["line_items", 0], ["line_items", 0, "price"], ["line_items", 0, "quantity"], ["line_items", 0, "sku"], ["line_items", 0, "name"],
  ["line_items", 0, "title"], ["line_items", 0, "gift_card"], ["line_items", 0, "properties"], ["line_items", 0, "discount_allocations"],
  ["line_items", 0, "tax_lines"], ["shipping_lines", 0, "price"], ["discount_codes", 0, "code"], ["customer", "first_name"],
  ["customer", "email"], ["client_details", "browser_ip"], ["note_attributes", 0, "value"],
];

function withValueAt(order: Record<string, unknown>, path: (string | number)[], value: unknown, remove: boolean) {
  let holder: unknown = order;
  for (const key of path.slice(0, -1)) {
    if (holder === null || typeof holder !== "object") return order;
    holder = (holder as Record<PropertyKey, unknown>)[key];
  }
  if (holder === null || typeof holder !== "object") return order;
  const last = path[path.length - 1];
  if (remove) delete (holder as Record<PropertyKey, unknown>)[last];
  else (holder as Record<PropertyKey, unknown>)[last] = value;
  return order;
}

const mappingOptions = fc.record({
  currency: fc.constantFrom("shop" as const, "presentment" as const),
  includeCustomer: fc.boolean(),
  autoCreditAffiliate: fc.boolean(),
});

function expectAcceptedOrTyped(input: unknown, opts: Parameters<typeof options>[0]) {
  const result = mapOrderToConversion(input, options(opts));
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(MappingError);
    return;
  }
  // A zero-value order is recorded as skipped and never sent.
  if (result.summary.zeroValue) return;
  // What goes over the wire is the JSON text, so check that, not the object.
  const sent = JSON.parse(JSON.stringify(result.conversion));
  const verdict = OrderJsonSchema.safeParse(sent);
  if (!verdict.success) throw new Error(`Refersion would refuse: ${JSON.stringify(verdict.error.issues)}\n${JSON.stringify(sent)}`);
}

describe("every conversion the mapping produces is one Refersion accepts", () => {
  it("real orders with junk in, or missing, any field", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURE_FILES),
        fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.anything({ withBigInt: true, withNullPrototype: true }), fc.boolean()), { minLength: 1, maxLength: 4 }),
        mappingOptions,
        (file, edits, opts) => {
          const order = fixture(file);
          for (const [path, value, remove] of edits) withValueAt(order, path, value, remove);
          expectAcceptedOrTyped(order, opts);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("plausible values in the wrong places: empty, zero, negative, huge, blank", () => {
    const plausible = fc.oneof(
      fc.constantFrom("", " ", "0", "-1", "0.00", "-0.01", "1e308", "NaN", "Infinity", "9007199254740993", null, 0, -1, 1e308, [], {}, [{}]),
      fc.string({ maxLength: 300 }),
      fc.double(),
      fc.integer(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURE_FILES), fc.constantFrom(...PATHS), plausible, mappingOptions, (file, path, value, opts) => {
        expectAcceptedOrTyped(withValueAt(fixture(file), path, value, false), opts);
      }),
      { numRuns: 1500 },
    );
  });

  it("an order of gift cards only is zero-value (nothing to credit), not an empty item list sent to Refersion", () => {
    const order = fixture("shopify-docs-order-1001-2026-07.json");
    for (const line of order.line_items) line.gift_card = true;
    const result = mapOrderToConversion(order, options());
    expect(result.ok && result.conversion.items).toEqual([]);
    expect(result.ok && result.summary.zeroValue).toBe(true);
  });

  it("anything at all as the order", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withNullPrototype: true, withSparseArray: true }), mappingOptions, (input, opts) => {
        expectAcceptedOrTyped(input, opts);
      }),
      { numRuns: 500 },
    );
  });
});
