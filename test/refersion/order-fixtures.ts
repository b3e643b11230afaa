import type { CurrencyChoice, MappingOptions, RefersionConversion } from "../../app/refersion/conversion";
import { currencyDecimals } from "../../app/refersion/mapping";
import { parseOrderJson } from "../../app/refersion/shopify-order";
import { ORDER_FIXTURES_DIR, orderFixtureNames, orderFixtureText } from "../support/fixtures";

/** The real order payloads of the repository (test/fixtures/orders/, see its SOURCES.md). */
export const FIXTURE_DIR = ORDER_FIXTURES_DIR;

export const FIXTURE_FILES = orderFixtureNames();

/** A fixture as tests edit it: deep, loosely typed JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** A fresh copy of a fixture, read without rounding ids beyond 2^53. */
export function fixture(file: string): Json {
  return parseOrderJson(orderFixtureText(file)) as Json;
}

export function options(overrides: Partial<MappingOptions> = {}): MappingOptions {
  return {
    shop: "demo-store.myshopify.com",
    currency: "shop",
    includeCustomer: true,
    autoCreditAffiliate: false,
    cartIdSecret: "test-cart-id-secret",
    ...overrides,
  };
}

/** Removes every `*_set` field, as in payloads from before 2018. */
export function withoutSets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutSets) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !key.endsWith("_set"))
        .map(([key, entry]) => [key, withoutSets(entry)]),
    ) as T;
  }
  return value;
}

/** An amount of the order in the chosen currency, read the plain way (independently of the mapping). */
function amount(holder: Json | null | undefined, plainKey: string, mode: CurrencyChoice): number {
  if (!holder) return 0;
  const set = holder[`${plainKey}_set`];
  const bag = set?.[mode === "shop" ? "shop_money" : "presentment_money"];
  if (bag) return Number(bag.amount);
  const plain = holder[plainKey];
  return plain === null || plain === undefined ? 0 : Number(plain);
}

function setAmount(set: Json | null | undefined, mode: CurrencyChoice): number {
  const bag = set?.[mode === "shop" ? "shop_money" : "presentment_money"];
  return bag ? Number(bag.amount) : 0;
}

const isTip = (line: Json) => "tip_payment_gateway" in line || "tip_payment_method" in line;

export interface OrderFigures {
  /** Pre-tax merchandise after discounts, from Shopify's own subtotal. */
  merchandise: number;
  /** total_price without tips, duties, additional fees and gift cards bought. */
  payable: number;
  /** subtotal + shipping + tax as Shopify reports them add up to total_price. */
  totalsAgree: boolean;
}

/** What Shopify's own order totals say the conversion must add up to. */
export function orderFigures(order: Json, mode: CurrencyChoice, decimals: number): OrderFigures {
  const lines: Json[] = order.line_items;
  const giftCards = lines
    .filter((line) => line.gift_card === true)
    .reduce((sum, line) => sum + amount(line, "price", mode) * Number(line.quantity), 0);
  const tips = lines.filter(isTip).reduce((sum, line) => sum + amount(line, "price", mode) * Number(line.quantity), 0);
  const merchandiseTax = order.taxes_included
    ? lines
        .filter((line) => line.gift_card !== true && !isTip(line) && Number(line.quantity) > 0)
        .flatMap((line) => line.tax_lines ?? [])
        .reduce((sum: number, taxLine: Json) => sum + amount(taxLine, "price", mode), 0)
    : 0;
  const subtotal = amount(order, "subtotal_price", mode);
  const total = amount(order, "total_price", mode);
  const tax = amount(order, "total_tax", mode);
  const shippingPaid = (order.shipping_lines ?? []).reduce(
    (sum: number, line: Json) => sum + (line.discounted_price !== undefined ? amount(line, "discounted_price", mode) : amount(line, "price", mode)),
    0,
  );
  const extras = setAmount(order.original_total_duties_set, mode) + setAmount(order.original_total_additional_fees_set, mode);
  const totalsAgree = Math.abs(subtotal + shippingPaid + (order.taxes_included ? 0 : tax) + tips + extras - total) <= 10 ** -decimals / 2;
  return { merchandise: subtotal - giftCards - merchandiseTax, payable: total - tips - extras - giftCards, totalsAgree };
}

export function itemsTotal(conversion: RefersionConversion): number {
  return conversion.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
}

/** Rounding allowance: half a minor unit per unit sold (unit prices are rounded), plus one. */
export function tolerance(conversion: RefersionConversion): number {
  const unit = 10 ** -currencyDecimals(conversion.currency_code);
  const units = conversion.items.reduce((sum, item) => sum + item.quantity, 0);
  return unit * (units / 2 + 1) + 1e-9;
}
