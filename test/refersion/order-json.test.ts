import fc from "fast-check";
import { MappingError, type MappingOptions, type RefersionConversion } from "~/refersion/conversion";
import { mapOrderToConversion } from "~/refersion/mapping";
import { CancelJsonSchema, OrderJsonSchema, type CancelItem, type OrderJson } from "~/refersion/order-json";
import { planReversals, sentOrderOf, type ReversalItem, type ReversalSource } from "~/reversals/reversal-mapping";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { FIXTURE_FILES, fixture, options, type Json } from "./order-fixtures";

/**
 * One contract for Refersion's JSON (app/refersion/order-json.ts): the app's types are inferred
 * from it, everything the mapping and the reversal planning produce satisfies it, and the local
 * Refersion stand-in accepts exactly what it accepts.
 */

describe("the app's types are the contract's", () => {
  it("a conversion is an order JSON with its three amounts, a reversal item a cancel item", () => {
    expectTypeOf<RefersionConversion>().toExtend<OrderJson>();
    expectTypeOf<RefersionConversion["shipping" | "tax" | "discount"]>().toEqualTypeOf<number>();
    expectTypeOf<RefersionConversion["items"]>().toEqualTypeOf<OrderJson["items"]>();
    expectTypeOf<ReversalItem>().toEqualTypeOf<CancelItem>();
  });
});

/** What goes over the wire is the JSON text, so the contract is checked on that, not on the object. */
function sentJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function expectSatisfiesContract(order: unknown, mappingOptions: MappingOptions): RefersionConversion | null {
  const result = mapOrderToConversion(order, mappingOptions);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(MappingError);
    return null;
  }
  // A zero-value order is recorded as skipped and never sent (Refersion refuses an empty item list).
  if (result.summary.zeroValue) return null;
  const sent = sentJson(result.conversion);
  const verdict = OrderJsonSchema.safeParse(sent);
  if (!verdict.success) throw new Error(`Refersion would refuse: ${JSON.stringify(verdict.error.issues)}\n${JSON.stringify(sent)}`);
  // Nothing is dropped on the way (the customer object would lose unknown keys silently).
  expect(verdict.data).toEqual(sent);
  for (const amount of [result.conversion.shipping, result.conversion.tax, result.conversion.discount]) expect(typeof amount).toBe("number");
  return result.conversion;
}

const optionsArb = fc.record({
  currency: fc.constantFrom("shop" as const, "presentment" as const),
  includeCustomer: fc.boolean(),
  autoCreditAffiliate: fc.boolean(),
});

/** Plausible edits of a real order: amounts with any number of decimals, quantities, kinds of line, markers. */
const editArb = fc.oneof(
  fc.record({ kind: fc.constant("amount" as const), at: fc.nat(), decimals: fc.integer({ min: 0, max: 6 }), cents: fc.integer({ min: 0, max: 500_000 }) }),
  fc.record({ kind: fc.constant("quantity" as const), at: fc.nat(), quantity: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant("line" as const), at: fc.nat(), as: fc.constantFrom("gift_card", "tip", "no_sku", "no_name") }),
  fc.record({ kind: fc.constant("order" as const), change: fc.constantFrom("taxes_included", "no_allocations", "storefront", "subscription", "no_customer", "codes") }),
);

type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

const AMOUNT_KEYS = new Set(["price", "amount", "discounted_price", "total_discount"]);

/** Line and shipping amounts of the order (the totals stay Shopify's). */
function amountHolders(order: Json): [Json, string][] {
  const holders: [Json, string][] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      for (const [key, entry] of Object.entries(value)) {
        if (AMOUNT_KEYS.has(key) && (typeof entry === "string" || typeof entry === "number")) holders.push([value as Json, key]);
        else visit(entry);
      }
    }
  };
  visit(order.line_items);
  visit(order.shipping_lines);
  return holders;
}

function edited(file: string, edits: Edit[]): Json {
  const order = fixture(file);
  const lines: Json[] = order.line_items;
  for (const edit of edits) {
    if (edit.kind === "amount") {
      const holders = amountHolders(order);
      if (holders.length === 0) continue;
      const [holder, key] = holders[edit.at % holders.length];
      holder[key] = (edit.cents / 10 ** Math.min(edit.decimals, 4)).toFixed(edit.decimals);
    } else if (edit.kind === "quantity" && lines.length > 0) {
      lines[edit.at % lines.length].quantity = edit.quantity;
    } else if (edit.kind === "line" && lines.length > 0) {
      const line = lines[edit.at % lines.length];
      if (edit.as === "gift_card") line.gift_card = true;
      else if (edit.as === "tip") line.tip_payment_method = null;
      else if (edit.as === "no_sku") line.sku = null;
      else line.name = line.title = " ";
    } else if (edit.kind === "order") {
      if (edit.change === "taxes_included") order.taxes_included = order.taxes_included !== true;
      else if (edit.change === "no_allocations") for (const line of lines) delete line.discount_allocations;
      else if (edit.change === "storefront") order.note_attributes = [{ name: "_rfsn_cart", value: "cart-from-storefront" }, { name: "_rfsn_aid", value: "8908369" }];
      else if (edit.change === "subscription") order.note_attributes = [{ name: "shopify_order_subscription_id", value: "sub_1" }];
      else if (edit.change === "no_customer") order.customer = order.billing_address = order.email = order.contact_email = order.browser_ip = null;
      else order.discount_codes = [{ code: "SPRING" }, { code: "FREESHIP" }];
    }
  }
  return order;
}

describe("what the mapping sends satisfies Refersion's order JSON", () => {
  it("every fixture, in both currencies, with and without the optional fields", () => {
    let checked = 0;
    for (const file of FIXTURE_FILES) {
      for (const currency of ["shop", "presentment"] as const) {
        for (const includeCustomer of [true, false]) {
          if (expectSatisfiesContract(fixture(file), options({ currency, includeCustomer, autoCreditAffiliate: true }))) checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(FIXTURE_FILES.length);
  });

  it("plausible variants of the fixtures", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURE_FILES), fc.array(editArb, { minLength: 1, maxLength: 5 }), optionsArb, (file, edits, opts) => {
        expectSatisfiesContract(edited(file, edits), options(opts));
      }),
      { numRuns: 800 },
    );
  });
});

describe("what the reversals send satisfies Refersion's cancel JSON", () => {
  it("cancellations and refunds of any lines, in any order, of every fixture", () => {
    const refund = fc.array(fc.record({ at: fc.nat(), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 3 });
    const source = fc.oneof(fc.constant(null), refund);
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURE_FILES), fc.array(source, { minLength: 1, maxLength: 4 }), fc.boolean(), (file, plans, withOrder) => {
        const order = fixture(file);
        const conversion = expectSatisfiesContract(order, options({ includeCustomer: false }));
        if (!conversion) return;
        const sent = sentOrderOf(JSON.stringify(conversion), withOrder ? JSON.stringify(order) : null);
        if (!sent) throw new Error("the order sent could not be read back");
        const lines: Json[] = order.line_items;
        const sources: ReversalSource[] = plans.map((lineRefunds, index) =>
          lineRefunds === null
            ? { reversal: "cancel" }
            : {
                reversal: "refund",
                refundId: String(index + 1),
                lines: lineRefunds.map(({ at, quantity }) => {
                  const line = lines[at % lines.length];
                  return { lineItemId: String(line.id), sku: typeof line.sku === "string" ? line.sku.trim() : "", name: line.name ?? null, quantity };
                }),
              },
        );
        for (const items of planReversals(sent, sources)) {
          // An empty plan is recorded as skipped, never sent.
          if (items.length === 0) continue;
          const body = sentJson({ order_id: sent.orderId, items });
          const verdict = CancelJsonSchema.safeParse(body);
          if (!verdict.success) throw new Error(`Refersion would refuse: ${JSON.stringify(verdict.error.issues)}\n${JSON.stringify(body)}`);
          expect(verdict.data).toEqual(body);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the Refersion stand-in accepts exactly what the contract accepts", () => {
  let sandbox: RefersionSandbox;
  beforeAll(async () => {
    sandbox = await startRefersionSandbox({ recordBodies: false });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  async function post(url: string, body: unknown): Promise<number> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Refersion-Public-Key": DEFAULT_SANDBOX_KEYS.publicKey, "Refersion-Secret-Key": DEFAULT_SANDBOX_KEYS.secretKey },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }

  const ORDER_ID = "4012345678901";
  const validOrder = (): Json => ({
    cart_id: "c1-0123456789abcdef",
    order_id: ORDER_ID,
    shipping: 4.5,
    tax: 1.25,
    discount: 0,
    discount_code: "SPRING",
    is_subscription: true,
    subscription_id: "sub_1",
    auto_credit_affiliate_id: 8908369,
    currency_code: "EUR",
    customer: { first_name: "Ann", email: "ann@example.com" },
    items: [{ price: 12.5, quantity: 2, sku: "SKU-1", name: "Mug" }],
  });

  /** Replacements that sit on the edge of what Refersion accepts. */
  const edgeValue = fc.oneof(
    fc.constantFrom(undefined, null, "", " ", "x", "EUR", "eur", "x".repeat(256), 0, -0.01, 1.5, 2, -1, true, [], {}, [{}], { sku: "" }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const edit = fc.tuple(fc.constantFrom("order", "item", "customer", "unknown"), fc.constantFrom(...Object.keys(validOrder()), "price", "quantity", "sku", "name", "first_name", "email", "extra"), edgeValue);

  function withEdits(body: Json, edits: [string, string, unknown][]): Json {
    for (const [where, key, value] of edits) {
      const holder: Json | undefined = where === "item" ? body.items?.[0] : where === "customer" ? body.customer : body;
      if (!holder || typeof holder !== "object") continue;
      if (where === "unknown") holder[`${key}_extra`] = value;
      else if (value === undefined) delete holder[key];
      else holder[key] = value;
    }
    return body;
  }

  it("order bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        const body = withEdits(validOrder(), edits);
        const accepted = OrderJsonSchema.safeParse(sentJson(body)).success;
        expect(await post(sandbox.webhookUrl, body)).toBe(accepted ? 200 : 422);
      }),
      { numRuns: 150 },
    );
  });

  it("cancel bodies, for an order it accepted", async () => {
    // Forgets the orders accepted above, whose ids the edits below may well hit.
    sandbox.reset();
    expect(await post(sandbox.webhookUrl, validOrder())).toBe(200);
    const cancelEdit = fc.tuple(fc.constantFrom("order", "item", "unknown"), fc.constantFrom("order_id", "items", "sku", "quantity", "price", "extra"), edgeValue);
    await fc.assert(
      fc.asyncProperty(fc.array(cancelEdit, { minLength: 1, maxLength: 3 }), async (edits) => {
        const body = withEdits({ order_id: ORDER_ID, items: [{ sku: "SKU-1", quantity: 1, price: 12.5 }] }, edits);
        const parsed = CancelJsonSchema.safeParse(sentJson(body));
        // A valid body for an order it never accepted is refused too, as Refersion does (error 5).
        const accepted = parsed.success && parsed.data.order_id === ORDER_ID;
        expect(await post(`${sandbox.apiUrl}/conversion/cancel`, body)).toBe(accepted ? 200 : 422);
      }),
      { numRuns: 150 },
    );
  });
});
