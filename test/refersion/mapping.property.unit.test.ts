import fc from "fast-check";
import { MappingError, type CurrencyChoice, type MappingResult, type RefersionConversion } from "../../app/refersion/conversion";
import { currencyDecimals, mapOrderToConversion } from "../../app/refersion/mapping";
import { itemsTotal, options } from "./order-fixtures";

/**
 * Generated orders shaped like Shopify's: amounts are computed the way Shopify computes them
 * (discounts allocated per line, tax per line and per shipping line, totals as sums), in the
 * shop's currency and, converted component by component, in the buyer's. The mapping must
 * report them consistently; junk anywhere must come back as a MappingError, never a throw.
 */

const CURRENCIES = ["USD", "EUR", "AUD", "HKD", "JPY", "KWD", "INR"] as const;

const hex = (minLength: number, maxLength = minLength) => fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength, maxLength });

const linePlan = fc.record({
  unit: fc.integer({ min: 0, max: 250_000 }), // minor units of the shop currency
  quantity: fc.integer({ min: 0, max: 6 }),
  kind: fc.constantFrom("merchandise", "merchandise", "merchandise", "merchandise", "gift_card", "tip"),
  discountPercent: fc.constantFrom(0, 0, 5, 10, 15, 33, 50, 100),
  taxBasisPoints: fc.constantFrom(0, 0, 500, 600, 1000, 1800, 2100, 2500),
  sku: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
  name: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
});

const shippingPlan = fc.record({
  price: fc.integer({ min: 0, max: 5_000 }),
  discountPercent: fc.constantFrom(0, 0, 50, 100),
  taxBasisPoints: fc.constantFrom(0, 1000, 2100),
});

const orderPlan = fc.record({
  shopCurrency: fc.constantFrom(...CURRENCIES),
  buyerCurrency: fc.constantFrom(...CURRENCIES),
  rate: fc.integer({ min: 20, max: 500 }).map((percent) => percent / 100),
  taxesIncluded: fc.boolean(),
  legacy: fc.boolean(),
  lines: fc.array(linePlan, { minLength: 1, maxLength: 6 }),
  shipping: fc.array(shippingPlan, { maxLength: 2 }),
  id: fc.bigInt({ min: 1n, max: 99_999_999_999_999_999n }),
  idAsText: fc.boolean(),
  cartToken: fc.oneof(
    fc.constant(null),
    hex(32),
    fc.tuple(hex(32), hex(1, 32)).map(([token, key]) => `c1-${token}?key=${key}`),
  ),
  storefrontCart: fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: null }),
  codes: fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 }),
  test: fc.boolean(),
});

type OrderPlan = typeof orderPlan extends fc.Arbitrary<infer T> ? T : never;

interface Expected {
  currency: string;
  /** Pre-tax merchandise after discounts. */
  merchandise: number;
  /** What the buyer paid, less tips and gift cards. */
  payable: number;
}

interface GeneratedOrder {
  order: Record<string, unknown>;
  orderId: string;
  expected: Record<CurrencyChoice, Expected>;
}

/** The components of an order in one currency, in minor units. */
function priced(plan: OrderPlan, convert: (minor: number) => number) {
  const lines = plan.lines.map((line) => {
    const kind = plan.legacy && line.kind === "tip" ? "merchandise" : line.kind;
    const quantity = kind === "tip" ? 1 : line.quantity;
    const unit = convert(line.unit);
    const gross = unit * quantity;
    const discount = kind === "merchandise" ? Math.floor((gross * line.discountPercent) / 100) : 0;
    const after = gross - discount;
    const rate = kind === "merchandise" ? line.taxBasisPoints / 10_000 : 0;
    const tax = plan.taxesIncluded ? Math.round(after - after / (1 + rate)) : Math.round(after * rate);
    return { ...line, kind, quantity, unit, gross, discount, after, rate, tax };
  });
  const shipping = plan.shipping.map((line) => {
    const price = convert(line.price);
    const discount = Math.floor((price * line.discountPercent) / 100);
    const paid = price - discount;
    const rate = line.taxBasisPoints / 10_000;
    const tax = plan.taxesIncluded ? Math.round(paid - paid / (1 + rate)) : Math.round(paid * rate);
    return { price, discount, paid, rate, tax };
  });
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const subtotal = sum(lines.filter((line) => line.kind !== "tip").map((line) => line.after));
  const tips = sum(lines.filter((line) => line.kind === "tip").map((line) => line.gross));
  const giftCards = sum(lines.filter((line) => line.kind === "gift_card").map((line) => line.gross));
  const merchandiseTax = sum(lines.filter((line) => line.kind === "merchandise").map((line) => line.tax));
  const totalTax = merchandiseTax + sum(shipping.map((line) => line.tax));
  const total = subtotal + sum(shipping.map((line) => line.paid)) + (plan.taxesIncluded ? 0 : totalTax) + tips;
  const lineDiscounts = sum(lines.map((line) => line.discount));
  return { lines, shipping, subtotal, tips, giftCards, merchandiseTax, totalTax, total, lineDiscounts };
}

function buildOrder(plan: OrderPlan): GeneratedOrder {
  const shopDecimals = currencyDecimals(plan.shopCurrency);
  const buyerCurrency = plan.legacy ? plan.shopCurrency : plan.buyerCurrency;
  const buyerDecimals = currencyDecimals(buyerCurrency);
  const shop = priced(plan, (minor) => minor);
  // Before 2018 an order had one currency only.
  const buyer = plan.legacy ? shop : priced(plan, (minor) => Math.round((minor / 10 ** shopDecimals) * plan.rate * 10 ** buyerDecimals));
  const shopText = (minor: number) => (minor / 10 ** shopDecimals).toFixed(shopDecimals);
  const buyerText = (minor: number) => (minor / 10 ** buyerDecimals).toFixed(buyerDecimals);

  // A plain amount, plus its *_set twin unless the payload is from before 2018.
  const money = (key: string, shopMinor: number, buyerMinor: number): Record<string, unknown> => ({
    [key]: shopText(shopMinor),
    ...(plan.legacy
      ? {}
      : {
          [`${key}_set`]: {
            shop_money: { amount: shopText(shopMinor), currency_code: plan.shopCurrency },
            presentment_money: { amount: buyerText(buyerMinor), currency_code: buyerCurrency },
          },
        }),
  });
  const taxLines = (shopLine: { tax: number; rate: number }, buyerLine: { tax: number }) =>
    shopLine.rate > 0 ? [{ ...money("price", shopLine.tax, buyerLine.tax), rate: shopLine.rate, title: "Tax" }] : [];

  const orderId = plan.id.toString();
  const line_items = shop.lines.map((line, index) => {
    const buyerLine = buyer.lines[index];
    return {
      id: index + 1,
      quantity: line.quantity,
      sku: line.sku,
      ...(line.name === undefined ? {} : { name: line.name }),
      title: `Product ${index + 1}`,
      gift_card: line.kind === "gift_card",
      ...money("price", line.unit, buyerLine.unit),
      tax_lines: taxLines(line, buyerLine),
      ...(plan.legacy
        ? { ...money("total_discount", line.discount, buyerLine.discount) }
        : {
            discount_allocations:
              line.discount > 0 || buyerLine.discount > 0 ? [{ ...money("amount", line.discount, buyerLine.discount), discount_application_index: 0 }] : [],
          }),
      ...(line.kind === "tip" ? { tip_payment_gateway: "shopify_payments", tip_payment_method: null } : {}),
    };
  });
  const shipping_lines = shop.shipping.map((line, index) => {
    const buyerLine = buyer.shipping[index];
    return {
      title: "Standard",
      ...money("price", line.price, buyerLine.price),
      ...(plan.legacy ? {} : money("discounted_price", line.paid, buyerLine.paid)),
      ...(plan.legacy && line.discount > 0 ? { price: shopText(line.paid) } : {}),
      tax_lines: taxLines(line, buyerLine),
      discount_allocations: [],
    };
  });
  const bigId = plan.id > BigInt(Number.MAX_SAFE_INTEGER);
  const order: Record<string, unknown> = {
    id: plan.idAsText ? orderId : Number(plan.id),
    ...(plan.legacy && !bigId ? {} : { admin_graphql_api_id: `gid://shopify/Order/${orderId}` }),
    name: `#${1000 + Number(plan.id % 9000n)}`,
    currency: plan.shopCurrency,
    ...(plan.legacy ? {} : { presentment_currency: buyerCurrency }),
    taxes_included: plan.taxesIncluded,
    test: plan.test,
    ...money("subtotal_price", shop.subtotal, buyer.subtotal),
    ...money("total_price", shop.total, buyer.total),
    ...money("total_tax", shop.totalTax, buyer.totalTax),
    ...money("total_discounts", shop.lineDiscounts, buyer.lineDiscounts),
    line_items,
    shipping_lines,
    discount_codes: plan.codes.map((code) => ({ code, amount: "0.00", type: "fixed_amount" })),
    cart_token: plan.cartToken,
    note_attributes: plan.storefrontCart === null ? [] : [{ name: "_rfsn_cart", value: plan.storefrontCart }],
    customer: { id: 42, first_name: "Ann", last_name: "Lee", email: "ann@example.com" },
    browser_ip: "203.0.113.9",
  };
  const expected = (parts: ReturnType<typeof priced>, decimals: number, currency: string): Expected => {
    const unit = 10 ** decimals;
    const merchandise =
      parts.lines.filter((line) => line.kind === "merchandise" && line.quantity > 0).reduce((sum, line) => sum + line.after, 0) -
      (plan.taxesIncluded ? parts.merchandiseTax : 0);
    return { currency, merchandise: merchandise / unit, payable: (parts.total - parts.tips - parts.giftCards) / unit };
  };
  return {
    order,
    orderId,
    expected: { shop: expected(shop, shopDecimals, plan.shopCurrency), presentment: expected(buyer, buyerDecimals, buyerCurrency) },
  };
}

/** What holds for every conversion the mapping produces. */
function expectWellFormed(result: MappingResult): void {
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(MappingError);
    expect(result.error.message.length).toBeGreaterThan(0);
    return;
  }
  const { conversion, summary } = result;
  for (const value of [conversion.shipping, conversion.tax, conversion.discount, ...conversion.items.map((item) => item.price)]) {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
  }
  for (const item of conversion.items) {
    expect(Number.isInteger(item.quantity)).toBe(true);
    expect(item.quantity).toBeGreaterThan(0);
    expect(typeof item.sku).toBe("string");
  }
  expect(conversion.currency_code).toMatch(/^[A-Z]{3}$/);
  expect(conversion.order_id).toMatch(/^\d+$/);
  expect(conversion.cart_id.length).toBeGreaterThan(0);
  expect(conversion.cart_id.length).toBeLessThanOrEqual(255);
  expect(conversion.cart_id).not.toBe(conversion.order_id);
  expect(Number.isFinite(Number(summary.total))).toBe(true);
  expect(summary.orderId).toBe(conversion.order_id);
  if (conversion.auto_credit_affiliate_id !== undefined) expect(Number.isSafeInteger(conversion.auto_credit_affiliate_id)).toBe(true);
}

function expectAddsUp(conversion: RefersionConversion, expected: Expected): void {
  const unit = 10 ** -currencyDecimals(expected.currency);
  const unitsSold = conversion.items.reduce((sum, item) => sum + item.quantity, 0);
  const allowance = unit * (unitsSold / 2 + 2) + 1e-9;
  const merchandise = itemsTotal(conversion) - conversion.discount;
  expect(conversion.currency_code).toBe(expected.currency);
  expect(Math.abs(merchandise - expected.merchandise)).toBeLessThanOrEqual(allowance);
  expect(Math.abs(merchandise + conversion.shipping + conversion.tax - expected.payable)).toBeLessThanOrEqual(allowance);
}

const generatedOrder = orderPlan.map(buildOrder);

describe("generated Shopify-shaped orders", () => {
  it("map in both currencies and add up to the order's own totals", () => {
    fc.assert(
      fc.property(generatedOrder, fc.constantFrom<CurrencyChoice>("shop", "presentment"), ({ order, orderId, expected }, currency) => {
        const result = mapOrderToConversion(order, options({ currency }));
        expectWellFormed(result);
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        expect(result.conversion.order_id).toBe(orderId);
        expectAddsUp(result.conversion, expected[currency]);
      }),
      { numRuns: 400 },
    );
  });

  it("keep the cart token (without its key) or the storefront's cart id, else derive one", () => {
    fc.assert(
      fc.property(generatedOrder, ({ order }) => {
        const result = mapOrderToConversion(order, options());
        if (!result.ok) throw new Error(result.error.message);
        const token = typeof order.cart_token === "string" ? order.cart_token.split("?")[0] : "";
        if (token) expect(result.conversion.cart_id).toBe(token);
        else expect(result.conversion.cart_id).not.toBe(order.id);
        expect(result.conversion.cart_id).not.toContain("?key=");
      }),
    );
  });
});

/** Places in an order where junk can land. */
const JUNK_PATHS: (string | number)[][] = [
  ["id"], ["admin_graphql_api_id"], ["currency"], ["presentment_currency"], ["taxes_included"], ["total_price"],
  ["total_price_set"], ["subtotal_price"], ["total_tax"], ["total_tax_set"], ["line_items"], ["shipping_lines"],
  ["discount_codes"], ["note_attributes"], ["cart_token"], ["customer"], ["tags"], ["source_name"], ["client_details"],
  ["line_items", 0], ["line_items", 0, "price"], ["line_items", 0, "price_set"], ["line_items", 0, "quantity"],
  ["line_items", 0, "tax_lines"], ["line_items", 0, "discount_allocations"], ["line_items", 0, "properties"],
  ["line_items", 0, "sku"], ["line_items", 0, "gift_card"], ["shipping_lines", 0], ["discount_codes", 0, "code"],
];

function withJunk(order: Record<string, unknown>, path: (string | number)[], junk: unknown): unknown {
  const copy = structuredClone(order);
  let holder: unknown = copy;
  for (const key of path.slice(0, -1)) {
    if (holder === null || typeof holder !== "object") return copy;
    holder = (holder as Record<PropertyKey, unknown>)[key];
  }
  if (holder !== null && typeof holder === "object") (holder as Record<PropertyKey, unknown>)[path[path.length - 1]] = junk;
  return copy;
}

describe("junk never throws", () => {
  it("junk in any field of a plausible order gives a conversion or a MappingError", () => {
    fc.assert(
      fc.property(
        generatedOrder,
        fc.constantFrom(...JUNK_PATHS),
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }),
        fc.constantFrom<CurrencyChoice>("shop", "presentment"),
        fc.boolean(),
        ({ order }, path, junk, currency, autoCreditAffiliate) => {
          expectWellFormed(mapOrderToConversion(withJunk(order, path, junk), options({ currency, autoCreditAffiliate })));
        },
      ),
      { numRuns: 600 },
    );
  });

  it("fc.anything() as the order gives a MappingError or a conversion, never an exception", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true }), (input) => {
        expectWellFormed(mapOrderToConversion(input, options()));
      }),
      { numRuns: 1000 },
    );
  });

  it("objects with an order's keys and arbitrary values never throw", () => {
    const keys = ["id", "admin_graphql_api_id", "currency", "presentment_currency", "line_items", "total_price", "cart_token", "customer", "shipping_lines", "taxes_included"];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.anything()), (input) => {
        expectWellFormed(mapOrderToConversion(input, options({ currency: "presentment", autoCreditAffiliate: true })));
      }),
      { numRuns: 1000 },
    );
  });
});
