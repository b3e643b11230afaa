import { MappingError, type CurrencyChoice } from "./conversion";
import { describeValue, type ShopifyMoneySet, type ShopifyOrder } from "./shopify-order";

/**
 * Amounts of a Shopify order in the reported currency. Shop mode: `*_set.shop_money`, else the
 * plain field. Presentment mode: `*_set.presentment_money`; the shop amount only when the buyer
 * paid in the shop's currency (orders from before 2018 have no `*_set` fields). Never mixes
 * currencies. Every function here is pure.
 */

/** ISO 4217 currencies whose minor unit is not 2 digits; every other code uses 2. */
const CURRENCY_DECIMALS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0,
  VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

/** No order amount comes near this; larger ones are junk and would lose cents in a double. */
const MAX_AMOUNT = 1e12;

/** Amounts are never reported with more decimals than this, whatever the payload carries. */
const MAX_DECIMALS = 4;

export function currencyDecimals(currencyCode: string): number {
  return CURRENCY_DECIMALS[currencyCode.toUpperCase()] ?? 2;
}

/** An object of the order that holds amounts: the order itself, a line, a tax line, ... */
export type MoneyHolder = Record<string, unknown>;

/** The currencies of an order, and which of them the amounts are reported in. */
export interface OrderCurrencies {
  mode: CurrencyChoice;
  shop: string;
  presentment: string;
  /** The currency of every amount read: `shop` or `presentment`, by mode. */
  reported: string;
}

export function orderCurrencies(order: ShopifyOrder, mode: CurrencyChoice): OrderCurrencies {
  const shop = currencyCode(order.currency, "currency");
  const presentment = order.presentment_currency?.trim() ? currencyCode(order.presentment_currency, "presentment_currency") : shop;
  return { mode, shop, presentment, reported: mode === "shop" ? shop : presentment };
}

function currencyCode(value: string, field: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new MappingError("invalid_field", `${field} should be a three-letter currency code, not ${describeValue(value)}`);
  return code;
}

/**
 * Where the amount of `holder[plainKey]` / `holder[setKey]` in the reported currency is found:
 * a `*_money` bag (with the currency it names), or a plain value (the shop's amount).
 */
type AmountSource =
  | { from: "bag"; bag: { amount: unknown; currency_code?: string | null }; currency: string; path: string }
  | { from: "plain"; value: unknown; shopCurrencyOnly: boolean; path: string };

function amountSource(currencies: OrderCurrencies, holder: MoneyHolder, plainKey: string, setKey: string, path: string): AmountSource | undefined {
  const set = holder[setKey] as ShopifyMoneySet | null | undefined;
  const setPath = joinPath(path, setKey);
  const plainPath = joinPath(path, plainKey);
  if (currencies.mode === "shop") {
    if (set?.shop_money) return { from: "bag", bag: set.shop_money, currency: currencies.shop, path: `${setPath}.shop_money` };
    const plain = holder[plainKey];
    return plain === null || plain === undefined ? undefined : { from: "plain", value: plain, shopCurrencyOnly: false, path: plainPath };
  }
  if (set?.presentment_money) return { from: "bag", bag: set.presentment_money, currency: currencies.presentment, path: `${setPath}.presentment_money` };
  const fallback = set?.shop_money ? set.shop_money.amount : holder[plainKey];
  return fallback === null || fallback === undefined ? undefined : { from: "plain", value: fallback, shopCurrencyOnly: true, path: plainPath };
}

/**
 * The amount as the payload writes it (text or JSON number), or undefined when the order has
 * none. Nothing is checked: this is for deciding which amounts exist and how many decimals they
 * carry; readMoney checks them.
 */
export function writtenAmount(currencies: OrderCurrencies, holder: MoneyHolder, plainKey: string, setKey: string): unknown {
  const source = amountSource(currencies, holder, plainKey, setKey, "");
  return source?.from === "bag" ? source.bag.amount : source?.value;
}

/** The amount of `holder[plainKey]` / `holder[setKey]`, or undefined when the order has neither. */
export function readMoney(currencies: OrderCurrencies, holder: MoneyHolder, plainKey: string, setKey: string, path: string): number | undefined {
  const source = amountSource(currencies, holder, plainKey, setKey, path);
  if (!source) return undefined;
  if (source.from === "bag") {
    const code = typeof source.bag.currency_code === "string" ? source.bag.currency_code.trim().toUpperCase() : "";
    if (code && code !== source.currency) {
      throw new MappingError("inconsistent_amounts", `${source.path} is in ${code}, but the order's amounts there should be in ${source.currency}`);
    }
    return parseAmount(source.bag.amount, `${source.path}.amount`);
  }
  if (source.shopCurrencyOnly && currencies.presentment !== currencies.shop) {
    throw new MappingError(
      "unsupported_currency",
      `${source.path} has no amount in the buyer's currency (${currencies.presentment}), only in the shop's (${currencies.shop}); report this order in the shop currency`,
    );
  }
  return parseAmount(source.value, source.path);
}

/** Like readMoney, but a missing amount counts as zero and a negative one is refused. */
export function readNonNegativeMoney(currencies: OrderCurrencies, holder: MoneyHolder, plainKey: string, setKey: string, path: string): number {
  const value = readMoney(currencies, holder, plainKey, setKey, path) ?? 0;
  if (value < 0) throw new MappingError("inconsistent_amounts", `${joinPath(path, plainKey)} is negative (${value})`);
  return value;
}

function parseAmount(value: unknown, path: string): number {
  const text = amountText(value);
  const number = typeof value === "number" ? value : Number(text);
  if (text === "" || !Number.isFinite(number)) {
    throw new MappingError("invalid_field", `${path} should be an amount like "12.34", not ${describeValue(value)}`);
  }
  if (Math.abs(number) > MAX_AMOUNT) throw new MappingError("invalid_field", `${path} is implausibly large (${describeValue(value)})`);
  return number;
}

function amountText(value: unknown): string {
  return typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
}

/**
 * How many decimals an amount is written with, trailing zeros ignored ("12.340" -> 2; exponent
 * notation -> 0). A scan rather than a regular expression: a lazy fraction before trailing zeros
 * backtracks quadratically on "13.5000…0001", and the text comes from a webhook body.
 */
export function writtenDecimals(value: unknown): number {
  const text = amountText(value);
  if (text.includes("e")) return 0;
  const point = text.lastIndexOf(".");
  if (point === -1) return 0;
  let end = text.length;
  for (let index = point + 1; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return 0;
  }
  while (end > point + 1 && text.charCodeAt(end - 1) === 48) end -= 1;
  return end - point - 1;
}

/**
 * The decimals amounts are reported with: the currency's minor unit, or more when the amounts
 * the mapping reads carry more (a payload's own precision is kept), at most MAX_DECIMALS.
 */
export function reportingDecimals(currency: string, amountsRead: readonly unknown[]): number {
  const written = amountsRead.reduce<number>((most, value) => Math.max(most, writtenDecimals(value)), 0);
  return Math.min(MAX_DECIMALS, Math.max(currencyDecimals(currency), written));
}

/** Rounds half away from zero at `decimals`, tolerating binary noise (1.005 -> 1.01). */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const scaled = Math.abs(value) * factor;
  const rounded = (Math.sign(value) * Math.round(scaled * (1 + 1e-12))) / factor;
  return rounded === 0 ? 0 : rounded;
}

/** A field's path for messages: "line_items[0]" + "price" -> "line_items[0].price". */
export function joinPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
