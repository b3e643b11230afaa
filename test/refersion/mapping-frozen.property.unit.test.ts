import { MappingError, type MappingOptions, type MappingResult } from "../../app/refersion/conversion";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { FIXTURE_FILES, fixture, options, withoutSets, type Json } from "./order-fixtures";

/**
 * The mapping's output, byte for byte, on every real fixture and on variants generated from
 * them, is frozen in mapping-frozen.snapshot.txt: a change to how the mapping is written must
 * not change what it sends, nor which error an order gets. A deliberate change to the mapping's
 * rules shows up as a diff of that file (regenerate it with `npx vitest run -u` on this file).
 *
 * The variants come from a seeded generator of the test's own rather than from fast-check, so
 * the inputs behind the frozen outputs stay the same across library upgrades. They aim at what
 * is easy to get subtly wrong: amounts with more decimals than the currency (which decide the
 * rounding), payloads without discount allocations or `*_set` fields, tax-inclusive prices,
 * currencies with 0 and 3 decimals, shipping variants, tax fallbacks, and broken amounts whose
 * error message depends on the order in which fields are read.
 */

const VARIANTS_PER_FIXTURE = 25;

/** mulberry32: small and repeatable for a given seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Draw {
  int(below: number): number;
  pick<T>(values: readonly T[]): T;
  chance(probability: number): boolean;
}

function drawFrom(random: () => number): Draw {
  return {
    int: (below) => Math.floor(random() * below),
    pick: (values) => values[Math.floor(random() * values.length)],
    chance: (probability) => random() < probability,
  };
}

const AMOUNT_KEYS = new Set(["price", "amount", "total_price", "subtotal_price", "total_tax", "discounted_price", "total_discount", "total_discounts"]);

type Path = (string | number)[];

/** Every amount in the order (plain fields and the amounts inside `*_set` bags), in document order. */
function amountPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((entry, index) => amountPaths(entry, [...path, index]));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, entry]) =>
    AMOUNT_KEYS.has(key) && (typeof entry === "string" || typeof entry === "number") ? [[...path, key]] : amountPaths(entry, [...path, key]),
  );
}

function holderOf(order: Json, path: Path): Json | null {
  let holder: unknown = order;
  for (const key of path.slice(0, -1)) {
    if (!holder || typeof holder !== "object") return null;
    holder = (holder as Json)[key as string];
  }
  return holder && typeof holder === "object" ? (holder as Json) : null;
}

function setAt(order: Json, path: Path, value: unknown): void {
  const holder = holderOf(order, path);
  if (holder) holder[path[path.length - 1] as string] = value;
}

function deleteAt(order: Json, path: Path): void {
  const holder = holderOf(order, path);
  if (holder) delete holder[path[path.length - 1] as string];
}

/** Every `*_money` bag of the order. */
function moneyBags(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(moneyBags);
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, entry]) =>
    (key === "shop_money" || key === "presentment_money") && entry && typeof entry === "object" ? [entry as Json] : moneyBags(entry),
  );
}

const lines = (order: Json): Json[] => (Array.isArray(order.line_items) ? order.line_items : []);
const shippingLines = (order: Json): Json[] => (Array.isArray(order.shipping_lines) ? order.shipping_lines : []);

type Mutation = (order: Json, draw: Draw) => Json;

/** Edits a generated variant is made of; each returns the (possibly replaced) order. */
const MUTATIONS: Mutation[] = [
  // Before 2018: no *_set fields, no allocations, one currency.
  (order) => {
    const legacy = withoutSets(order);
    for (const line of lines(legacy)) delete line.discount_allocations;
    delete legacy.presentment_currency;
    return legacy;
  },
  // No allocations, but *_set fields.
  (order) => {
    for (const line of lines(order)) delete line.discount_allocations;
    return order;
  },
  (order) => ({ ...order, taxes_included: order.taxes_included !== true }),
  // More decimals than the currency has, as text or as a JSON number.
  (order, draw) => {
    const paths = amountPaths(order);
    if (paths.length === 0) return order;
    const path = draw.pick(paths);
    const holder = holderOf(order, path);
    const current = Number(holder?.[path[path.length - 1] as string]) || 1;
    const value = current * (1 + (draw.int(2000) - 1000) / 100_000);
    setAt(order, path, draw.pick([value.toFixed(3), value.toFixed(4), value.toFixed(5), `${value.toFixed(2)}00`, Number(value.toFixed(draw.int(7)))]));
    return order;
  },
  // Every amount as a JSON number instead of text.
  (order) => {
    for (const path of amountPaths(order)) setAt(order, path, Number(holderOf(order, path)?.[path[path.length - 1] as string]));
    return order;
  },
  // A total or subtotal the payload lacks.
  (order, draw) => {
    const key = draw.pick(["total_tax", "total_price", "subtotal_price", "tax_lines"]);
    delete order[key];
    delete order[`${key}_set`];
    if (key === "total_tax" && draw.chance(0.5)) delete order.tax_lines;
    return order;
  },
  // The buyer's currency differs but some amounts exist only in the shop's.
  (order, draw) => {
    order.presentment_currency = draw.pick(["USD", "EUR", "JPY", "KWD"]);
    const bags = amountPaths(order).filter((path) => path.includes("presentment_money"));
    if (bags.length > 0) deleteAt(order, bags[draw.int(bags.length)].slice(0, -1));
    return order;
  },
  // A currency with another minor unit, all bags relabelled (or, sometimes, not).
  (order, draw) => {
    const code = draw.pick(["JPY", "KWD", "BHD", "CLP", "usd", "EUR"]);
    order.currency = code;
    order.presentment_currency = draw.chance(0.5) ? code : draw.pick(["ISK", "OMR", "GBP"]);
    if (draw.chance(0.8)) for (const bag of moneyBags(order)) bag.currency_code = code.toUpperCase();
    return order;
  },
  // Shipping: removed lines, lines without discounted_price, shipping discounts and taxes.
  (order, draw) => {
    const shipping = shippingLines(order);
    if (shipping.length === 0) {
      order.shipping_lines = [{ price: "7.50", tax_lines: [{ price: "0.68", rate: 0.1 }], discount_allocations: [{ amount: "2.5" }] }];
      return order;
    }
    const line = draw.pick(shipping);
    switch (draw.int(4)) {
      case 0:
        line.is_removed = true;
        break;
      case 1:
        delete line.discounted_price;
        delete line.discounted_price_set;
        line.discount_allocations = [{ amount: "1.255" }];
        break;
      case 2:
        line.tax_lines = [{ price: "1.1", rate: 0.1 }, { price: "0.055", rate: 0.05 }];
        break;
      default:
        shipping.push({ ...structuredClone(line), price: "3.999", discounted_price: "3.999" });
    }
    return order;
  },
  // A gift card bought, a tip, or nothing ordered on one line.
  (order, draw) => {
    if (lines(order).length === 0) return order;
    const line = draw.pick(lines(order));
    const change = draw.int(4);
    if (change === 0) line.gift_card = true;
    else if (change === 1) line.tip_payment_gateway = null;
    else if (change === 2) line.quantity = 0;
    else line.quantity = draw.pick([1, 3, "2", 7]);
    return order;
  },
  // A line discounted by more than it costs, or taxed by more than it costs.
  (order, draw) => {
    if (lines(order).length === 0) return order;
    const line = draw.pick(lines(order));
    const excess = String((Number(line.price) || 0) * (Number(line.quantity) || 1) + draw.pick([0.005, 0.02, 5]));
    if (draw.chance(0.5)) line.discount_allocations = [{ amount: excess }];
    else line.tax_lines = [{ price: excess, rate: 0.2 }];
    return order;
  },
  // A pre-2018 line discount of its own.
  (order, draw) => {
    if (lines(order).length === 0) return order;
    draw.pick(lines(order)).total_discount = draw.pick(["1.50", "0.333", "-1.00", "abc", null, 2]);
    return order;
  },
  // Broken or negative amounts anywhere.
  (order, draw) => {
    const paths = amountPaths(order);
    if (paths.length === 0) return order;
    setAt(order, draw.pick(paths), draw.pick(["-0.01", "-5", "abc", "", null, {}, 1e13, "1e3"]));
    return order;
  },
  // A bag in another currency than the one reported.
  (order, draw) => {
    const bags = moneyBags(order);
    if (bags.length > 0) draw.pick(bags).currency_code = "XXX";
    return order;
  },
  // Tax lines with rates only, zero-price lines, lines discounted to nothing.
  (order, draw) => {
    if (lines(order).length === 0) return order;
    const line = draw.pick(lines(order));
    const gross = String((Number(line.price) || 0) * (Number(line.quantity) || 0));
    line.discount_allocations = [{ amount: gross }];
    line.tax_lines = [{ price: "0.00", rate: draw.pick([0.1, 0.19, "0.2", null]) }];
    if (draw.chance(0.3)) line.price = "0.00";
    return order;
  },
  // Every amount scaled, so the order stays consistent in another magnitude.
  (order, draw) => {
    const factor = draw.pick([0.01, 3, 1000, 0.37]);
    for (const path of amountPaths(order)) {
      const current = Number(holderOf(order, path)?.[path[path.length - 1] as string]);
      if (Number.isFinite(current)) setAt(order, path, (current * factor).toFixed(draw.pick([2, 2, 3])));
    }
    return order;
  },
  // No lines, or no shipping.
  (order, draw) => {
    if (draw.chance(0.5)) order.line_items = [];
    else delete order.shipping_lines;
    return order;
  },
  // Several problems at once: the error reported is the first one met, so the order of reading shows.
  (order, draw) => {
    const all = lines(order);
    if (draw.chance(0.5)) for (const line of all) delete line.discount_allocations;
    order.taxes_included = draw.chance(0.7);
    // Problems of one line, so that checks and reads of the same line compete too.
    const line: Json = all.length > 0 ? draw.pick(all) : {};
    const problems = [
      () => {
        line.tax_lines = [{ price: "999999", rate: 0.2 }];
      },
      () => {
        line.total_discount = "-2.00";
      },
      () => {
        line.discount_allocations = [{ amount: "999999" }];
      },
      () => {
        order.subtotal_price_set = { shop_money: { amount: "1.00", currency_code: "XXX" } };
      },
      () => {
        order.shipping_lines = [{ price: "1.00", discounted_price: "-3.00" }];
      },
      () => {
        order.total_tax_set = null;
        order.total_tax = "-1.00";
      },
      () => {
        order.total_price_set = null;
        order.total_price = "-1.00";
      },
    ];
    // The line's tax and its own discount (read in the same pass) more often than the rest.
    for (let count = 2 + draw.int(3); count > 0; count -= 1) draw.pick([...problems, problems[0], problems[1]])();
    return order;
  },
  // Identifiers and attributes: cart token, storefront attributes, subscriptions, customer.
  (order, draw) => {
    switch (draw.int(6)) {
      case 0:
        order.cart_token = draw.pick([null, "", `c1-abc?key=secret`, String(order.id), "x".repeat(256)]);
        break;
      case 1:
        order.note_attributes = [
          { name: "_rfsn_cart", value: draw.pick(["cart-1", " ", String(order.name)]) },
          { name: "_rfsn_aid", value: draw.pick(["8908369", "0", "abc", " 12 "]) },
          ...(draw.chance(0.5) ? [{ name: "shopify_order_subscription_id", value: "sub-77" }] : []),
        ];
        break;
      case 2:
        order.tags = draw.pick(["Subscription Recurring Order, vip", "seal_subscription_1", "", ["appstle_subscription_first_order"]]);
        order.source_name = draw.pick(["web", "subscription_contract", "subscription_contract_checkout_one"]);
        break;
      case 3:
        if (lines(order).length > 0) draw.pick(lines(order)).properties = [{ name: "subscription_id", value: draw.pick(["123", "abc"]) }, { name: "charge_interval_frequency", value: "30" }];
        break;
      case 4:
        order.customer = draw.pick([null, { first_name: "REDACTED", last_name: "***", email: "a@b.example", id: 5 }, { admin_graphql_api_id: "gid://shopify/Customer/77" }]);
        order.browser_ip = draw.pick(["0.0.0.0", "::1", "not-an-ip", null]);
        break;
      default:
        order.discount_codes = [{ code: " A " }, { code: "A" }, { code: "FREESHIP" }, { code: null }];
    }
    return order;
  },
];

interface Case {
  key: string;
  order: unknown;
  options: MappingOptions;
}

function* cases(): Generator<Case> {
  for (const [fileIndex, file] of FIXTURE_FILES.entries()) {
    for (const currency of ["shop", "presentment"] as const) {
      yield { key: `${file} ${currency}`, order: fixture(file), options: options({ currency, autoCreditAffiliate: true }) };
    }
    for (let variant = 1; variant <= VARIANTS_PER_FIXTURE; variant += 1) {
      const draw = drawFrom(prng(fileIndex * 1000 + variant));
      let order = fixture(file);
      const edits: number[] = [];
      const count = 1 + draw.int(3);
      for (let edit = 0; edit < count; edit += 1) {
        const index = draw.int(MUTATIONS.length);
        edits.push(index);
        order = MUTATIONS[index](order, draw);
      }
      const includeCustomer = draw.chance(0.3);
      const autoCreditAffiliate = draw.chance(0.5);
      for (const currency of ["shop", "presentment"] as const) {
        yield {
          key: `${file} #${variant} [${edits.join(",")}] ${currency}`,
          order: structuredClone(order),
          options: options({ currency, includeCustomer, autoCreditAffiliate }),
        };
      }
    }
  }
}

/** The whole result as it leaves the mapping: the JSON sent and the summary, or the error. */
function frozen(result: MappingResult): string {
  if (result.ok) return JSON.stringify({ conversion: result.conversion, summary: result.summary });
  expect(result.error).toBeInstanceOf(MappingError);
  return JSON.stringify({ error: result.error.code, message: result.error.message });
}

describe("the mapping's output is frozen", () => {
  it("on every fixture and generated variant, in both currencies", async () => {
    const outputs = [...cases()].map(({ key, order, options: mappingOptions }) => `${key}\n${frozen(mapOrderToConversion(order, mappingOptions))}\n`);
    expect(outputs.length).toBe(FIXTURE_FILES.length * 2 * (VARIANTS_PER_FIXTURE + 1));
    await expect(outputs.join("")).toMatchFileSnapshot("./mapping-frozen.snapshot.txt");
  });
});
