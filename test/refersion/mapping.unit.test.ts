import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MappingError, type CurrencyChoice, type MappingResult, type RefersionConversion } from "../../app/refersion/conversion";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { parseOrderJson } from "../../app/refersion/shopify-order";
import { FIXTURE_DIR, FIXTURE_FILES, fixture, itemsTotal, options, orderFigures, tolerance, withoutSets, type Json } from "./order-fixtures";

const DOCS_1001 = "shopify-docs-order-1001-2026-07.json";
const AUD_1027_TAX_INCLUDED = "real-aud-order-1027-gst-taxes-included-bank-deposit-2016.json";
const AUD_1030 = "real-aud-order-1030-2020.json";
const AUD_SHOP_USD_BUYER_1029 = "real-aud-shop-usd-presentment-order-1029-2020.json";
const EUR_CH_2672 = "real-eur-ch-order-2672-digital-no-shipping-c1-cart-token-2023.json";
const HKD_DRAFT_1071 = "real-hkd-draft-order-1071-percentage-code-plus-automatic-2025.json";
const INR_1005 = "real-inr-order-1005-cancelled-freeship-2024.json";
const ZERO_TOTAL_2017 = "real-usd-order-1001-zero-total-free-no-shipping-pre-2018-schema-2017.json";
const RECHARGE_SBL1069 = "real-usd-order-sbl1069-recharge-bundle-c1-cart-token-2023.json";
const TEST_NOTIFICATION = "test-notification-9999-2019.json";

/**
 * Fixtures whose own totals disagree, so their subtotal_price cannot serve as the yardstick.
 * The REST docs sample reports subtotal_price 597.00 (= total_line_items_price) although its
 * discount of 10.00 is allocated to the lines and total_price 598.94 = 587.00 + 11.94 tax.
 */
const SUBTOTAL_ARTEFACTS: Record<string, string> = {
  [DOCS_1001]: "subtotal_price ignores the TENOFF discount; total_line_items_price - total_discounts is the real subtotal",
};

function mapped(order: unknown, overrides: Parameters<typeof options>[0] = {}): MappingResult {
  return mapOrderToConversion(order, options(overrides));
}

function conversionOf(order: unknown, overrides: Parameters<typeof options>[0] = {}) {
  const result = mapped(order, overrides);
  if (!result.ok) throw new Error(`expected a conversion, got ${result.error.code}: ${result.error.message}`);
  return result;
}

function errorOf(order: unknown, overrides: Parameters<typeof options>[0] = {}): MappingError {
  const result = mapped(order, overrides);
  if (result.ok) throw new Error("expected a MappingError, got a conversion");
  expect(result.error).toBeInstanceOf(MappingError);
  return result.error;
}

function derived(shop: string, orderId: string, secret = options().cartIdSecret): string {
  return `ord-${createHmac("sha256", secret).update(`${shop}:${orderId}`).digest("hex").slice(0, 40)}`;
}

/** Both invariants of docs/mapping.md, checked against Shopify's own totals. */
function expectInvariants(order: Json, mode: CurrencyChoice, conversion: RefersionConversion, file = "") {
  const decimals = conversion.currency_code === "JPY" ? 0 : 2;
  const figures = orderFigures(order, mode, decimals);
  const allowance = tolerance(conversion);
  const merchandise = itemsTotal(conversion) - conversion.discount;
  if (SUBTOTAL_ARTEFACTS[file]) {
    // Prove the artefact is still there, then hold the mapping to the consistent figure.
    expect(figures.totalsAgree).toBe(false);
    const lineTotal = Number(order.total_line_items_price_set?.[mode === "shop" ? "shop_money" : "presentment_money"]?.amount);
    const discounts = Number(order.total_discounts_set?.[mode === "shop" ? "shop_money" : "presentment_money"]?.amount);
    expect(Math.abs(merchandise - (lineTotal - discounts))).toBeLessThanOrEqual(allowance);
  } else {
    expect(figures.totalsAgree).toBe(true);
    expect(Math.abs(merchandise - figures.merchandise)).toBeLessThanOrEqual(allowance);
  }
  expect(Math.abs(merchandise + conversion.shipping + conversion.tax - figures.payable)).toBeLessThanOrEqual(allowance);
}

describe("every fixture, in both currency modes", () => {
  const cases = FIXTURE_FILES.flatMap((file) => (["shop", "presentment"] as const).map((currency) => [file, currency] as const));

  it("finds the fixtures beside the repository", () => {
    expect(FIXTURE_FILES.length).toBeGreaterThanOrEqual(12);
  });

  it.each(cases)("%s (%s currency) maps and adds up to Shopify's totals", (file, currency) => {
    const order = fixture(file);
    const { conversion, summary } = conversionOf(order, { currency });
    expectInvariants(order, currency, conversion, file);

    const expectedCurrency = currency === "presentment" ? (order.presentment_currency ?? order.currency) : order.currency;
    expect(conversion.currency_code).toBe(expectedCurrency);
    expect(summary.currency).toBe(expectedCurrency);
    expect(conversion.order_id).toMatch(/^\d+$/);
    expect(summary.orderId).toBe(conversion.order_id);
    expect(conversion.cart_id.length).toBeGreaterThan(0);
    expect(conversion.cart_id.length).toBeLessThanOrEqual(255);
    expect(conversion.cart_id).not.toBe(conversion.order_id);
    expect(conversion.cart_id).not.toContain("?");
    for (const value of [conversion.shipping, conversion.tax, conversion.discount, ...conversion.items.map((item) => item.price)]) {
      expect(Number.isFinite(value) && value >= 0).toBe(true);
    }
    for (const item of conversion.items) {
      expect(Number.isInteger(item.quantity) && item.quantity > 0).toBe(true);
      expect(typeof item.sku).toBe("string");
    }
    const total = currency === "shop" ? order.total_price_set?.shop_money.amount ?? order.total_price : order.total_price_set?.presentment_money.amount ?? order.total_price;
    expect(summary.total).toBe(Number(total).toFixed(2));
    expect(summary.test).toBe(order.test === true);
  });
});

describe("concrete conversions, computed by hand", () => {
  it("the REST docs order #1001: three iPods, TENOFF split over the lines, 6% state tax", () => {
    const { conversion, summary } = conversionOf(fixture(DOCS_1001));
    expect(conversion).toEqual({
      cart_id: "68778783ad298f1c80c3bafcddeea02f",
      order_id: "450789469",
      shipping: 0,
      tax: 11.94,
      discount: 10, // 3.34 + 3.33 + 3.33 from the lines' discount_allocations
      discount_code: "TENOFF",
      currency_code: "USD",
      // browser_ip 0.0.0.0 is a placeholder, not the buyer's address
      customer: { first_name: "Buyer", last_name: "BB987", email: "bob.norman@mail.example.com" },
      items: [
        { price: 199, quantity: 1, sku: "IPOD2008GREEN", name: "IPod Nano - 8gb - green" },
        { price: 199, quantity: 1, sku: "IPOD2008RED", name: "IPod Nano - 8gb - red" },
        { price: 199, quantity: 1, sku: "IPOD2008BLACK", name: "IPod Nano - 8gb - black" },
      ],
    });
    expect(summary).toEqual({
      orderId: "450789469",
      name: "#1001",
      total: "598.94",
      currency: "USD",
      test: false,
      zeroValue: false,
      customerId: "207119551",
    });
  });

  it("#1027 (2016, tax-inclusive AUD): the GST sits in the shipping, so shipping is reported without it", () => {
    const { conversion, summary } = conversionOf(fixture(AUD_1027_TAX_INCLUDED));
    expect(conversion).toMatchObject({
      cart_id: "431917b7277ea05887f42caa3781b56b",
      order_id: "3745073799",
      shipping: 9.09, // 10.00 paid, of which 0.91 MwSt
      tax: 0.91,
      discount: 0,
      currency_code: "AUD",
      items: [
        { price: 5.07, quantity: 3, sku: "168840702" },
        { price: 12, quantity: 4, sku: "159380902" },
      ],
    });
    expect(conversion).not.toHaveProperty("discount_code");
    // 15.21 + 48.00 + 9.09 + 0.91 = 73.21, what the buyer paid
    expect(summary.total).toBe("73.21");
  });

  it("#1029 in presentment mode: the USD the buyer saw, not the shop's AUD", () => {
    const { conversion, summary } = conversionOf(fixture(AUD_SHOP_USD_BUYER_1029), { currency: "presentment", includeCustomer: false });
    expect(conversion).toEqual({
      cart_id: "75ea35352251e9eb2763191774ab3179",
      order_id: "2998548365461",
      shipping: 7.71,
      tax: 3.47,
      discount: 0,
      currency_code: "USD",
      items: [{ price: 34.67, quantity: 1, sku: "", name: "Classic Fountain Pen - Fine / Bordeaux" }],
    });
    expect(summary).toMatchObject({ total: "45.85", currency: "USD" });
  });

  it("#1029 in shop mode: all AUD", () => {
    const { conversion, summary } = conversionOf(fixture(AUD_SHOP_USD_BUYER_1029), { includeCustomer: false });
    expect(conversion).toMatchObject({ shipping: 10.15, tax: 4.56, discount: 0, currency_code: "AUD", items: [{ price: 45.62, quantity: 1 }] });
    expect(summary).toMatchObject({ total: "60.33", currency: "AUD" });
  });

  it("#1071 (HKD draft order): a manual 15% code plus an automatic HK$5, no cart token", () => {
    const { conversion } = conversionOf(fixture(HKD_DRAFT_1071));
    expect(conversion).toEqual({
      cart_id: derived("demo-store.myshopify.com", "6200407294252"),
      order_id: "6200407294252",
      shipping: 22,
      tax: 0,
      discount: 34.1, // 14.10 + 5.00 on the first line, 15.00 on the second
      discount_code: "0124D",
      currency_code: "HKD",
      customer: { ip_address: "203.0.113.13" }, // no customer, no billing address, blank email
      items: [
        { price: 99, quantity: 1, sku: "", name: "aaa0103測試商品11aa" },
        { price: 100, quantity: 1, sku: "", name: "Green Snowboard" },
      ],
    });
  });

  it("#1005 (INR): the free-shipping code is reported, and refunded lines still count at their ordered quantity", () => {
    const { conversion } = conversionOf(fixture(INR_1005));
    expect(conversion).toMatchObject({
      shipping: 0,
      tax: 496.76,
      discount: 0,
      discount_code: "FREESHIP2024",
      items: [
        { price: 629.95, quantity: 2, sku: "sku-managed-1" },
        { price: 749.95, quantity: 2, sku: "" },
      ],
    });
  });

  it("API-created orders: null sku becomes blank, the cart id is derived", () => {
    const order = fixture("shopify-api-order-1002-eur-custom-item-2026-07.json");
    const { conversion } = conversionOf(order);
    expect(conversion).toEqual({
      cart_id: derived("demo-store.myshopify.com", "1073459976"),
      order_id: "1073459976",
      shipping: 0,
      tax: 13.5,
      discount: 0,
      currency_code: "EUR",
      items: [{ price: 74.99, quantity: 3, sku: "", name: "Big Brown Bear Boots" }],
    });
  });
});

describe("cart_id", () => {
  it("drops the ?key= part of a cart token and keeps the rest as it is", () => {
    const order = fixture(EUR_CH_2672);
    order.cart_token = "c1-db6c8549b1f6f4d663b4aedd64957d62?key=0123456789abcdef";
    expect(conversionOf(order).conversion.cart_id).toBe("c1-db6c8549b1f6f4d663b4aedd64957d62");
  });

  it("uses the cart token unchanged when it has no key", () => {
    expect(conversionOf(fixture(RECHARGE_SBL1069)).conversion.cart_id).toBe("c1-56f2f58cedc8783d18eb7bceec2100e7");
    expect(conversionOf(fixture(INR_1005)).conversion.cart_id).toBe("Z2NwLXVzLWNlbnRyYWwxOjAxSEtZOUJXMDdHVldNNjBSWlZZVkUxQ1o3");
  });

  it("uses the storefront's _rfsn_cart note attribute when the cart token is null", () => {
    const order = fixture(HKD_DRAFT_1071);
    order.note_attributes = [
      { name: "gift_message", value: "hi" },
      { name: "_rfsn_cart", value: "c1-5f0e2d3a4b?key=abc" },
    ];
    expect(conversionOf(order).conversion.cart_id).toBe("c1-5f0e2d3a4b");
  });

  it("prefers the cart token over the attribute", () => {
    const order = fixture(AUD_1030);
    order.note_attributes = [{ name: "_rfsn_cart", value: "something-else" }];
    expect(conversionOf(order).conversion.cart_id).toBe("088f00482e00dfb0628480ccde9afcdd");
  });

  it("derives a stable, unguessable id when there is neither, never the order id or number", () => {
    const order = fixture(TEST_NOTIFICATION);
    const first = conversionOf(order).conversion.cart_id;
    expect(first).toMatch(/^ord-[0-9a-f]{40}$/);
    expect(first).toBe(derived("demo-store.myshopify.com", "820982911946154508"));
    expect(conversionOf(fixture(TEST_NOTIFICATION)).conversion.cart_id).toBe(first);
    expect(first).not.toContain("820982911946154508");
    expect(first).not.toContain("9999");
    expect(conversionOf(order, { shop: "other.myshopify.com" }).conversion.cart_id).not.toBe(first);
    expect(conversionOf(order, { cartIdSecret: "another-secret" }).conversion.cart_id).not.toBe(first);
  });

  it("does not use a blank, overlong or order-number-like token", () => {
    const order = fixture(AUD_1030);
    for (const token of ["", "   ", "?key=abc", "x".repeat(256), "2998557704341", "1030", "#1030"]) {
      order.cart_token = token;
      expect(conversionOf(order).conversion.cart_id).toBe(derived("demo-store.myshopify.com", "2998557704341"));
    }
  });

  it("refuses to derive an id without a secret", () => {
    expect(errorOf(fixture(HKD_DRAFT_1071), { cartIdSecret: "" }).code).toBe("invalid_options");
  });
});

describe("order_id", () => {
  it("is exact for ids beyond 2^53 when the body is read with parseOrderJson", () => {
    const order = fixture(TEST_NOTIFICATION);
    expect(order.id).toBe("820982911946154508");
    const { conversion, summary } = conversionOf(order);
    expect(conversion.order_id).toBe("820982911946154508");
    expect(summary.customerId).toBe("115310627314723954");
  });

  it("refuses a rounded id rather than report another order's number", () => {
    const text = fs.readFileSync(path.join(FIXTURE_DIR, TEST_NOTIFICATION), "utf8");
    const error = errorOf(JSON.parse(text));
    expect(error.code).toBe("invalid_field");
    expect(error.message).toContain("id");
  });

  it("reads admin_graphql_api_id first, so a rounded numeric id does not matter", () => {
    const order = fixture(AUD_1030);
    order.admin_graphql_api_id = "gid://shopify/Order/820982911946154508";
    order.id = Number("820982911946154508"); // what JSON.parse makes of it: 820982911946154500
    expect(conversionOf(order).conversion.order_id).toBe("820982911946154508");
  });

  it("falls back to id on payloads without admin_graphql_api_id", () => {
    expect(conversionOf(fixture(ZERO_TOTAL_2017)).conversion.order_id).toBe("50239340555");
  });

  it("refuses an id that names a different order than admin_graphql_api_id", () => {
    const order = fixture(AUD_1030);
    order.id = 1;
    expect(errorOf(order).code).toBe("invalid_field");
  });
});

describe("tax-inclusive prices", () => {
  it("#2672 (EUR, taxes included, no tax charged): prices unchanged", () => {
    const { conversion } = conversionOf(fixture(EUR_CH_2672));
    expect(conversion).toMatchObject({
      shipping: 0,
      tax: 0,
      discount: 0,
      currency_code: "EUR",
      items: [
        { price: 0, quantity: 1, sku: "", name: "CDAA® PRACTICE TEST - LEVEL 1" },
        { price: 437, quantity: 1, sku: "", name: "CHARTERED DIGITAL ASSET ANALYST (CDAA)® - LEVEL 1" },
      ],
    });
  });

  /** #2672 turned into a 21% VAT order: 2 x 121.00 with 10% off, shipping 12.10 with VAT. */
  function vatOrder(): Json {
    const order = withoutSets(fixture(EUR_CH_2672));
    const [line] = order.line_items;
    order.line_items = [
      {
        ...line,
        price: "121.00",
        quantity: 2,
        sku: "VAT-1",
        discount_allocations: [{ amount: "24.20", discount_application_index: 0 }],
        tax_lines: [{ price: "37.80", rate: 0.21, title: "VAT" }],
      },
    ];
    order.shipping_lines = [{ price: "12.10", discounted_price: "12.10", tax_lines: [{ price: "2.10", rate: 0.21, title: "VAT" }] }];
    order.discount_codes = [{ code: "TEN", amount: "24.20", type: "percentage" }];
    Object.assign(order, { subtotal_price: "217.80", total_tax: "39.90", total_price: "229.90", total_discounts: "24.20" });
    return order;
  }

  it("takes each line's VAT out of its price and its discount alike", () => {
    const order = vatOrder();
    const { conversion, summary } = conversionOf(order);
    expect(conversion).toMatchObject({
      shipping: 10, // 12.10 less 2.10 VAT
      tax: 39.9,
      discount: 20, // 24.20 gross = 20.00 net
      discount_code: "TEN",
      items: [{ price: 100, quantity: 2, sku: "VAT-1" }], // 121.00 gross = 100.00 net
    });
    expect(summary.total).toBe("229.90");
    expectInvariants(order, "shop", conversion);
    expectInvariants(order, "presentment", conversionOf(order, { currency: "presentment" }).conversion);
  });

  it("uses the tax rate for a line discounted to nothing", () => {
    const order = vatOrder();
    order.line_items[0].discount_allocations = [{ amount: "242.00" }];
    order.line_items[0].tax_lines = [{ price: "0.00", rate: 0.21 }];
    Object.assign(order, { subtotal_price: "0.00", total_tax: "2.10", total_price: "12.10" });
    const { conversion } = conversionOf(order);
    expect(conversion.items[0].price).toBe(100);
    expect(conversion.discount).toBe(200);
    expectInvariants(order, "shop", conversion);
  });

  it("rounds yen to whole units", () => {
    const order = withoutSets(fixture(EUR_CH_2672));
    order.currency = order.presentment_currency = "JPY";
    order.line_items = [{ ...order.line_items[1], price: "1100", quantity: 3, tax_lines: [{ price: "300", rate: 0.1 }], discount_allocations: [] }];
    Object.assign(order, { subtotal_price: "3300", total_tax: "300", total_price: "3300", total_discounts: "0" });
    const { conversion, summary } = conversionOf(order);
    expect(conversion).toMatchObject({ currency_code: "JPY", tax: 300, discount: 0, items: [{ price: 1000, quantity: 3 }] });
    expect(summary.total).toBe("3300");
    expectInvariants(order, "shop", conversion);
  });
});

describe("lines that are not merchandise", () => {
  /** #1030 with a gift card bought, a tip, and a line removed to quantity 0 by an edit. */
  function orderWithExtras(): Json {
    const order = withoutSets(fixture(AUD_1030));
    const [pen] = order.line_items;
    order.line_items.push(
      { ...pen, id: 1, name: "Gift Card - $50", title: "Gift Card", sku: "GIFT", price: "50.00", quantity: 1, gift_card: true, tax_lines: [] },
      { ...pen, id: 2, name: "Tip", title: "Tip", sku: null, price: "5.00", quantity: 1, tax_lines: [], tip_payment_gateway: "shopify_payments", tip_payment_method: "card" },
      { ...pen, id: 3, name: "Removed", sku: "GONE", price: "9.00", quantity: 0, tax_lines: [] },
    );
    Object.assign(order, { subtotal_price: "94.95", total_line_items_price: "99.95", total_price: "114.45", total_tip_received: "5.00" });
    return order;
  }

  it("leaves out gift cards bought, tips and lines with nothing ordered", () => {
    const order = orderWithExtras();
    const { conversion, summary } = conversionOf(order);
    expect(conversion.items).toEqual([{ price: 44.95, quantity: 1, sku: "", name: "Classic Fountain Pen - Fine / Bordeaux" }]);
    expect(conversion).toMatchObject({ shipping: 10, tax: 4.5, discount: 0 });
    expect(summary.total).toBe("114.45");
    expectInvariants(order, "shop", conversion);
  });

  it("derives the discount of pre-2018 payloads from their subtotal, gift cards aside", () => {
    const order = orderWithExtras();
    order.line_items = order.line_items.filter((line: Json) => !("tip_payment_gateway" in line));
    for (const line of order.line_items) delete line.discount_allocations;
    Object.assign(order, { subtotal_price: "84.95", total_price: "99.45", total_discounts: "10.00" });
    const { conversion } = conversionOf(order);
    expect(conversion.discount).toBe(10);
    expectInvariants(order, "shop", conversion);
  });
});

describe("currencies", () => {
  it("reports a pre-2018 order in presentment mode with the shop's amounts (one currency then)", () => {
    const { conversion } = conversionOf(fixture(ZERO_TOTAL_2017), { currency: "presentment" });
    expect(conversion.currency_code).toBe("USD");
  });

  it("refuses presentment mode when the buyer's amounts are missing", () => {
    const order = fixture(ZERO_TOTAL_2017);
    order.presentment_currency = "EUR";
    const error = errorOf(order, { currency: "presentment" });
    expect(error.code).toBe("unsupported_currency");
    expect(error.message).toContain("EUR");
    expect(conversionOf(order).conversion.currency_code).toBe("USD");
  });

  it("refuses amounts in a currency other than the one reported", () => {
    const order = fixture(AUD_SHOP_USD_BUYER_1029);
    order.line_items[0].price_set.presentment_money.currency_code = "EUR";
    const error = errorOf(order, { currency: "presentment" });
    expect(error.code).toBe("inconsistent_amounts");
    expect(error.message).toContain("line_items[0].price_set.presentment_money");
  });
});

describe("summary", () => {
  it("flags test orders", () => {
    expect(conversionOf(fixture(AUD_1030)).summary.test).toBe(true);
    expect(conversionOf(fixture(TEST_NOTIFICATION)).summary.test).toBe(true);
    expect(conversionOf(fixture(DOCS_1001)).summary.test).toBe(false);
  });

  it("marks the free 2017 order as zero-value, and an order with one free line as not", () => {
    const free = conversionOf(fixture(ZERO_TOTAL_2017));
    expect(free.summary).toMatchObject({ zeroValue: true, total: "0.00", name: "#1001" });
    expect(free.conversion.items).toHaveLength(2);
    expect(conversionOf(fixture(EUR_CH_2672)).summary.zeroValue).toBe(false);
  });

  it("has no customer id for orders without a customer", () => {
    expect(conversionOf(fixture(HKD_DRAFT_1071)).summary.customerId).toBeNull();
  });
});

describe("subscriptions", () => {
  it("does not take Recharge's _rc_bundle properties for a subscription (one-time bundles carry them too), nor any line property", () => {
    const order = fixture(RECHARGE_SBL1069);
    expect(conversionOf(order).conversion).not.toHaveProperty("is_subscription");
    order.line_items = order.line_items.map((line: Json) => ({
      ...line,
      properties: [...(line.properties as Json[]), { name: "shipping_interval_frequency", value: "1" }, { name: "shipping_interval_unit_type", value: "week" }],
    }));
    expect(conversionOf(order).conversion).not.toHaveProperty("is_subscription");
  });

  it("does not mark ordinary orders", () => {
    for (const file of [DOCS_1001, AUD_1030, HKD_DRAFT_1071, INR_1005]) {
      const { conversion } = conversionOf(fixture(file));
      expect(conversion).not.toHaveProperty("is_subscription");
      expect(conversion).not.toHaveProperty("subscription_id");
    }
  });

  it.each([
    ["a Shopify subscription contract renewal", (order: Json) => (order.source_name = "subscription_contract_checkout_one")],
    ["an older contract renewal", (order: Json) => (order.source_name = "subscription_contract")],
    ["a Recharge first order (tag)", (order: Json) => (order.tags = "Subscription, Subscription First Order")],
    ["a Recharge renewal (tag)", (order: Json) => (order.tags = "Subscription Recurring Order")],
    ["an Appstle renewal (tag)", (order: Json) => (order.tags = "appstle_subscription_recurring_order")],
    ["a Seal order (tag)", (order: Json) => (order.tags = "VIP, Seal Subscription")],
    ["a line bought with a selling plan", (order: Json) => (order.line_items[0].selling_plan_allocation = { selling_plan: { id: 690_119_000, name: "Every month" } })],
  ])("detects %s", (_label, mark) => {
    const order = fixture(AUD_1030);
    mark(order);
    const { conversion } = conversionOf(order);
    expect(conversion.is_subscription).toBe(true);
    expect(conversion).not.toHaveProperty("subscription_id");
  });
});

describe("auto_credit_affiliate_id", () => {
  it("sends the storefront's _rfsn_aid only when the option is on and it is a positive whole number", () => {
    const order = fixture(AUD_1030);
    order.note_attributes = [{ name: "_rfsn_aid", value: "8908369" }];
    expect(conversionOf(order, { autoCreditAffiliate: true }).conversion.auto_credit_affiliate_id).toBe(8908369);
    expect(conversionOf(order).conversion).not.toHaveProperty("auto_credit_affiliate_id");
    for (const value of ["0", "abc", "12.5", "8908369.4f153d", ""]) {
      order.note_attributes = [{ name: "_rfsn_aid", value }];
      expect(conversionOf(order, { autoCreditAffiliate: true }).conversion).not.toHaveProperty("auto_credit_affiliate_id");
    }
  });
});

describe("customer", () => {
  it("is left out when the merchant does not send customer details", () => {
    for (const file of FIXTURE_FILES) expect(conversionOf(fixture(file), { includeCustomer: false }).conversion).not.toHaveProperty("customer");
  });

  it("leaves out redacted and missing values instead of sending blanks", () => {
    const order = fixture(AUD_1030);
    order.customer = { id: 4206822293653, first_name: null, last_name: "", email: "REDACTED", state: "disabled" };
    order.billing_address = null;
    order.email = "";
    order.contact_email = null;
    order.browser_ip = null;
    order.client_details = { browser_ip: null, user_agent: null };
    expect(conversionOf(order).conversion).not.toHaveProperty("customer");

    order.client_details = { browser_ip: "2001:db8::7" };
    expect(conversionOf(order).conversion.customer).toEqual({ ip_address: "2001:db8::7" });
  });

  it("falls back to the billing address and the order's email", () => {
    const order = fixture(AUD_1030);
    order.customer = null;
    order.billing_address = { first_name: " Ann ", last_name: "Lee" };
    order.email = "";
    order.contact_email = "ann@example.com";
    order.browser_ip = "not an ip";
    expect(conversionOf(order).conversion.customer).toEqual({
      first_name: "Ann",
      last_name: "Lee",
      email: "ann@example.com",
      ip_address: "203.0.113.11", // from client_details
    });
  });
});

describe("discount_code", () => {
  it("joins all codes with commas, once each", () => {
    const order = fixture(DOCS_1001);
    order.discount_codes = [{ code: "TENOFF" }, { code: "FREESHIP" }, { code: "TENOFF" }, { code: "" }];
    expect(conversionOf(order).conversion.discount_code).toBe("TENOFF,FREESHIP");
  });
});

describe("inputs that are not orders", () => {
  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an array", [fixture(AUD_1030)]],
    ["a string", JSON.stringify(fixture(AUD_1030))],
    ["a number", 42],
    ["an empty object", {}],
  ])("%s is refused as not_an_order", (_label, input) => {
    expect(errorOf(input).code).toBe("not_an_order");
  });

  it("an order without line_items is refused, naming the field", () => {
    const order = fixture(AUD_1030);
    delete order.line_items;
    const error = errorOf(order);
    expect(error.code).toBe("invalid_field");
    expect(error.message).toBe("line_items is missing");
  });

  it("money that is not an amount is refused, naming the field", () => {
    const order = fixture(AUD_1030);
    order.line_items[0].price = "abc";
    const error = errorOf(order);
    expect(error.code).toBe("invalid_field");
    expect(error.message).toBe('line_items[0].price should be an amount like "12.34", not "abc"');
  });

  it("names nested fields and reports how many more problems there are", () => {
    const order = fixture(AUD_1030);
    order.total_tax_set.presentment_money.amount = "4,50";
    order.shipping_lines[0].price = { value: 1 };
    const error = errorOf(order);
    expect(error.message).toMatch(/^(total_tax_set\.presentment_money\.amount|shipping_lines\[0\]\.price) .* \(and 1 more problem\)$/);
  });

  it.each([
    ["a currency that is not a code", (order: Json) => (order.currency = "Dollars"), "invalid_field", "currency"],
    ["a negative price", (order: Json) => (order.line_items[0].price_set.shop_money.amount = "-1.00"), "inconsistent_amounts", "line_items[0]"],
    ["a fractional quantity", (order: Json) => (order.line_items[0].quantity = 1.5), "invalid_field", "line_items[0].quantity"],
    ["a discount larger than the line", (order: Json) => (order.line_items[0].discount_allocations = [{ amount: "99.00", amount_set: null }]), "inconsistent_amounts", "line_items[0]"],
    ["no id at all", (order: Json) => (delete order.id, delete order.admin_graphql_api_id), "invalid_field", "id"],
  ])("%s is refused", (_label, spoil, code, field) => {
    const order = fixture(AUD_1030);
    spoil(order);
    const error = errorOf(order);
    expect(error.code).toBe(code);
    expect(error.message).toContain(field);
  });

  it("parseOrderJson keeps ordinary numbers and only protects unsafe integers", () => {
    expect(parseOrderJson('{"id":820982911946154508,"n":12,"p":0.10,"x":-9007199254740993}')).toEqual({
      id: "820982911946154508",
      n: 12,
      p: 0.1,
      x: "-9007199254740993",
    });
  });
});
