import { createHmac } from "node:crypto";
import { isIP } from "node:net";
import type { z } from "zod";
import {
  MappingError,
  type MappingOptions,
  type MappingResult,
  type OrderSummary,
  type RefersionConversion,
  type RefersionCustomer,
  type RefersionItem,
} from "./conversion";
import {
  ShopifyOrderSchema,
  describeValue,
  type ShopifyDiscountAllocation,
  type ShopifyLineItem,
  type ShopifyMoneySet,
  type ShopifyOrder,
  type ShopifyTaxLine,
} from "./shopify-order";

/**
 * Turns a Shopify order (the REST Order of an orders/create webhook, any API version since 2016)
 * into the JSON Refersion's order webhook expects. Pure and total: every problem comes back as a
 * MappingError whose message names the Shopify field, nothing is thrown.
 * The rules, and the Shopify field behind each value, are written down in docs/mapping.md.
 */
export function mapOrderToConversion(order: unknown, options: MappingOptions): MappingResult {
  try {
    return { ok: true, ...mapOrder(order, options) };
  } catch (error) {
    if (error instanceof MappingError) return { ok: false, error };
    return { ok: false, error: new MappingError("invalid_field", `The order could not be read (${safeMessage(error)})`) };
  }
}

/** Longest value Refersion accepts for cart_id. */
export const CART_ID_MAX_LENGTH = 255;

/** Prefix of the cart id derived for orders that carry no cart token and no storefront attribute. */
export const DERIVED_CART_ID_PREFIX = "ord-";

/** Source names Shopify gives orders that a subscription contract created (renewals, billing attempts). */
const SUBSCRIPTION_CONTRACT_SOURCES = new Set(["subscription_contract", "subscription_contract_checkout_one"]);

/** Order tags subscription apps add (compared case-insensitively). */
const SUBSCRIPTION_TAGS = new Set([
  // Recharge
  "subscription first order",
  "subscription recurring order",
  // Appstle
  "appstle_subscription_first_order",
  "appstle_subscription_recurring_order",
]);

/**
 * Line item properties Recharge writes on subscription lines only. Not `_rc_bundle*`: Recharge
 * writes those on every checkout order of a dynamically priced bundle, one-time purchases
 * included; a subscribed bundle line also carries the delivery interval below.
 */
const RECHARGE_LINE_PROPERTIES = ["shipping_interval_frequency", "shipping_interval_unit_type", "charge_interval_frequency"];

/** Recharge's subscription id line property (the numeric id sent as `subscription_id`). */
const RECHARGE_SUBSCRIPTION_ID_PROPERTY = "subscription_id";

/** Skio's note attributes: its subscription id, and the provider marker. */
const SKIO_ID_ATTRIBUTE = "shopify_order_subscription_id";
const SKIO_PROVIDER_ATTRIBUTE = "subscription_provider";

/**
 * What the mapping reads from note attributes and line item properties, none of it naming a
 * buyer: removing personal data keeps exactly these (app/privacy/personal-data.ts), so a redacted
 * order still maps to the same cart id and subscription fields.
 */
export const MAPPED_NOTE_ATTRIBUTES: ReadonlySet<string> = new Set(["_rfsn_cart", "_rfsn_aid", SKIO_ID_ATTRIBUTE, SKIO_PROVIDER_ATTRIBUTE]);
export const MAPPED_LINE_PROPERTIES: ReadonlySet<string> = new Set([RECHARGE_SUBSCRIPTION_ID_PROPERTY, ...RECHARGE_LINE_PROPERTIES]);

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

type MoneyHolder = Record<string, unknown>;
type Mode = "shop" | "presentment";

interface MappedOrder {
  conversion: RefersionConversion;
  summary: OrderSummary;
}

function mapOrder(input: unknown, options: MappingOptions): MappedOrder {
  const order = parseOrder(input);
  const orderId = readOrderId(order);
  const mode: Mode = options.currency === "presentment" ? "presentment" : "shop";
  const money = new MoneyReader(order, mode);
  const amounts = computeAmounts(order, money);

  const decimals = Math.min(MAX_DECIMALS, Math.max(currencyDecimals(money.currency), money.observedDecimals));
  const round = (value: number) => roundTo(value, decimals);

  const conversion: RefersionConversion = {
    cart_id: cartIdFor(order, orderId, options),
    order_id: orderId,
    currency_code: money.currency,
    shipping: round(amounts.shipping),
    tax: round(amounts.tax),
    discount: round(amounts.discount),
    items: amounts.items.map((item) => ({ ...item, price: round(item.price) })),
  };
  const discountCode = discountCodesOf(order);
  if (discountCode) conversion.discount_code = discountCode;
  const subscription = subscriptionOf(order);
  if (subscription.isSubscription) {
    conversion.is_subscription = true;
    if (subscription.id) conversion.subscription_id = subscription.id;
  }
  if (options.autoCreditAffiliate) {
    const affiliateId = affiliateIdOf(order);
    if (affiliateId !== null) conversion.auto_credit_affiliate_id = affiliateId;
  }
  if (options.includeCustomer) {
    const customer = customerOf(order);
    if (customer) conversion.customer = customer;
  }

  const total = round(amounts.total);
  const summary: OrderSummary = {
    orderId,
    name: typeof order.name === "string" && order.name.trim() ? order.name.trim() : null,
    total: total.toFixed(decimals),
    currency: money.currency,
    test: order.test === true,
    // No item left to credit (only gift cards or tips, say): Refersion refuses an empty item list.
    zeroValue: conversion.items.length === 0 || (total === 0 && round(amounts.merchandise) === 0),
    customerId: customerIdOf(order.customer),
  };
  return { conversion: orderedConversion(conversion), summary };
}

// ---------------------------------------------------------------------------------------------
// Reading the payload

function parseOrder(input: unknown): ShopifyOrder {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    const kind =
      input === null || input === undefined
        ? "nothing"
        : Array.isArray(input)
          ? "a list"
          : typeof input === "string"
            ? "text"
            : `a ${typeof input === "bigint" ? "number" : typeof input}`;
    throw new MappingError("not_an_order", `Expected a Shopify order, but got ${kind}`);
  }
  const record = input as Record<string, unknown>;
  if (!("line_items" in record) && !("id" in record) && !("admin_graphql_api_id" in record)) {
    throw new MappingError("not_an_order", "This is not a Shopify order: it has no id and no line_items");
  }
  const parsed = ShopifyOrderSchema.safeParse(input);
  if (!parsed.success) throw new MappingError("invalid_field", describeIssues(parsed.error.issues, input));
  return parsed.data;
}

function describeIssues(issues: z.core.$ZodIssue[], input: unknown): string {
  const [first] = issues;
  if (!first) return "The order does not have the expected shape";
  const path = fieldPath(first.path);
  const value = valueAt(input, first.path);
  let problem: string;
  if (value === undefined) problem = "is missing";
  else if (first.code === "custom") problem = first.message;
  else if (first.code === "invalid_type") problem = `should be ${expectedText(first.expected)}, not ${describeValue(value)}`;
  else problem = `is not valid (${first.message})`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${path || "The order"} ${problem}${more}`;
}

function expectedText(expected: string): string {
  switch (expected) {
    case "string": return "text";
    case "number": return "a number";
    case "boolean": return "true or false";
    case "array": return "a list";
    case "object": return "an object";
    default: return expected;
  }
}

function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), "");
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function readOrderId(order: ShopifyOrder): string {
  const gid = typeof order.admin_graphql_api_id === "string" ? /^gid:\/\/shopify\/Order\/(\d+)$/.exec(order.admin_graphql_api_id.trim()) : null;
  const fromGid = gid ? gid[1] : null;
  let fromId: string | null = null;
  if (typeof order.id === "string") fromId = order.id;
  else if (typeof order.id === "number") {
    if (Number.isSafeInteger(order.id)) fromId = String(order.id);
    else if (!fromGid) {
      throw new MappingError(
        "invalid_field",
        `id ${order.id} is too large to be read exactly and the order has no admin_graphql_api_id to read it from`,
      );
    }
  }
  if (fromGid && fromId && fromGid !== fromId) {
    throw new MappingError("invalid_field", `id ${fromId} and admin_graphql_api_id ${order.admin_graphql_api_id} name different orders`);
  }
  const orderId = fromGid ?? fromId;
  if (!orderId) throw new MappingError("invalid_field", "The order has no id (both id and admin_graphql_api_id are missing)");
  return orderId;
}

/**
 * Reads amounts in the reported currency. Shop mode: `*_set.shop_money`, else the plain field.
 * Presentment mode: `*_set.presentment_money`; the shop amount only when the buyer paid in the
 * shop's currency (orders from before 2018 have no `*_set` fields). Never mixes currencies.
 */
class MoneyReader {
  readonly shopCurrency: string;
  readonly presentmentCurrency: string;
  readonly currency: string;
  /** Most decimals any amount read carried (trailing zeros ignored). */
  observedDecimals = 0;

  constructor(
    order: ShopifyOrder,
    readonly mode: Mode,
  ) {
    this.shopCurrency = currencyCode(order.currency, "currency");
    this.presentmentCurrency = order.presentment_currency?.trim()
      ? currencyCode(order.presentment_currency, "presentment_currency")
      : this.shopCurrency;
    this.currency = mode === "shop" ? this.shopCurrency : this.presentmentCurrency;
  }

  /** The amount of `holder[plainKey]` / `holder[setKey]`, or undefined when the order has neither. */
  read(holder: MoneyHolder, plainKey: string, setKey: string, path: string): number | undefined {
    const set = holder[setKey] as ShopifyMoneySet | null | undefined;
    const setPath = join(path, setKey);
    if (this.mode === "shop") {
      if (set?.shop_money) return this.bagAmount(set.shop_money, this.shopCurrency, `${setPath}.shop_money`);
      const plain = holder[plainKey];
      return plain === null || plain === undefined ? undefined : this.amount(plain, join(path, plainKey));
    }
    if (set?.presentment_money) return this.bagAmount(set.presentment_money, this.presentmentCurrency, `${setPath}.presentment_money`);
    const fallback = set?.shop_money ? set.shop_money.amount : holder[plainKey];
    if (fallback === null || fallback === undefined) return undefined;
    if (this.presentmentCurrency !== this.shopCurrency) {
      throw new MappingError(
        "unsupported_currency",
        `${join(path, plainKey)} has no amount in the buyer's currency (${this.presentmentCurrency}), only in the shop's (${this.shopCurrency}); report this order in the shop currency`,
      );
    }
    return this.amount(fallback, join(path, plainKey));
  }

  /** Like read, but a missing amount counts as zero and a negative one is refused. */
  readNonNegative(holder: MoneyHolder, plainKey: string, setKey: string, path: string): number {
    const value = this.read(holder, plainKey, setKey, path) ?? 0;
    if (value < 0) throw new MappingError("inconsistent_amounts", `${join(path, plainKey)} is negative (${value})`);
    return value;
  }

  private bagAmount(bag: { amount: string | number; currency_code?: string | null }, expected: string, path: string): number {
    const code = typeof bag.currency_code === "string" ? bag.currency_code.trim().toUpperCase() : "";
    if (code && code !== expected) {
      throw new MappingError("inconsistent_amounts", `${path} is in ${code}, but the order's amounts there should be in ${expected}`);
    }
    return this.amount(bag.amount, `${path}.amount`);
  }

  private amount(value: unknown, path: string): number {
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
    const number = typeof value === "number" ? value : Number(text);
    if (text === "" || !Number.isFinite(number)) {
      throw new MappingError("invalid_field", `${path} should be an amount like "12.34", not ${describeValue(value)}`);
    }
    if (Math.abs(number) > MAX_AMOUNT) throw new MappingError("invalid_field", `${path} is implausibly large (${describeValue(value)})`);
    const fraction = /\.(\d*?)0*$/.exec(text);
    if (fraction && !text.includes("e")) this.observedDecimals = Math.max(this.observedDecimals, fraction[1].length);
    return number;
  }
}

function currencyCode(value: string, field: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new MappingError("invalid_field", `${field} should be a three-letter currency code, not ${describeValue(value)}`);
  return code;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// ---------------------------------------------------------------------------------------------
// Amounts

interface Amounts {
  /** Unit prices before discounts and before tax, not yet rounded. */
  items: RefersionItem[];
  discount: number;
  shipping: number;
  tax: number;
  total: number;
  /** Merchandise after discounts, before tax: what the items add up to minus the discount. */
  merchandise: number;
}

type LineKind = "merchandise" | "tip" | "gift_card" | "not_ordered";

interface LineFacts {
  index: number;
  line: ShopifyLineItem;
  kind: LineKind;
  quantity: number;
  unitPrice: number;
  allocated: number;
  tax: number;
  taxRate: number;
}

const EPSILON = 1e-6;
/** Plausibility checks let a cent of conversion rounding pass; anything more is refused. */
const SLACK = 0.01;

function computeAmounts(order: ShopifyOrder, money: MoneyReader): Amounts {
  const taxesIncluded = order.taxes_included === true;
  const lines = order.line_items.map((line, index) => lineFacts(line, index, money));

  // Since 2018 every discount is allocated to the lines (or shipping lines) it applies to.
  // Older payloads have no allocations: their merchandise discount is what the subtotal lacks.
  const allocated = order.line_items.some((line) => Array.isArray(line.discount_allocations));

  const items: RefersionItem[] = [];
  let itemsTotal = 0;
  let discount = 0;
  let merchandiseTax = 0;
  let merchandiseAfterDiscounts = 0;
  for (const facts of lines) {
    if (facts.kind !== "merchandise") continue;
    const { index, line, quantity, unitPrice, allocated: lineDiscount, tax } = facts;
    const gross = unitPrice * quantity;
    if (allocated && lineDiscount - gross > SLACK) {
      throw new MappingError("inconsistent_amounts", `line_items[${index}] is discounted by more than it costs`);
    }
    // Tax-inclusive prices: the line's own share of tax comes out of price and discount alike.
    let netShare = 1;
    if (taxesIncluded) {
      const afterDiscounts = allocated ? gross - lineDiscount : gross;
      if (tax - afterDiscounts > SLACK) {
        throw new MappingError("inconsistent_amounts", `line_items[${index}].tax_lines add up to more than the line costs`);
      }
      netShare = afterDiscounts - tax > EPSILON ? (afterDiscounts - tax) / afterDiscounts : 1 / (1 + facts.taxRate);
      merchandiseTax += tax;
    }
    const price = unitPrice * netShare;
    items.push(itemOf(line, price, quantity));
    itemsTotal += price * quantity;
    if (allocated) discount += lineDiscount * netShare;
    merchandiseAfterDiscounts += allocated ? gross - lineDiscount : gross - legacyLineDiscount(line, money, index);
  }

  if (allocated) {
    merchandiseAfterDiscounts -= merchandiseTax;
  } else {
    // subtotal_price: line items after discounts, before shipping and tax (tax-inclusive stores: with their tax).
    const subtotal = money.read(order, "subtotal_price", "subtotal_price_set", "");
    if (subtotal !== undefined) {
      // Gift cards bought count in the subtotal; tips do not (and predate these payloads anyway).
      const giftCards = lines.filter((facts) => facts.kind === "gift_card");
      merchandiseAfterDiscounts = subtotal - giftCards.reduce((sum, facts) => sum + facts.unitPrice * facts.quantity, 0);
    }
    merchandiseAfterDiscounts -= merchandiseTax;
    discount = Math.max(0, itemsTotal - merchandiseAfterDiscounts);
    merchandiseAfterDiscounts = itemsTotal - discount;
  }

  const shipping = shippingOf(order, money, taxesIncluded);
  const tax = taxOf(order, money, lines);
  const total = money.read(order, "total_price", "total_price_set", "") ?? merchandiseAfterDiscounts + shipping + tax;
  if (total < 0) throw new MappingError("inconsistent_amounts", `total_price is negative (${total})`);
  return { items, discount, shipping, tax, total, merchandise: merchandiseAfterDiscounts };
}

function lineFacts(line: ShopifyLineItem, index: number, money: MoneyReader): LineFacts {
  const path = `line_items[${index}]`;
  const quantity = Number(line.quantity);
  const unitPrice = money.read(line, "price", "price_set", path);
  if (unitPrice === undefined) throw new MappingError("invalid_field", `${path}.price is missing`);
  if (unitPrice < 0) throw new MappingError("inconsistent_amounts", `${path}.price is negative (${unitPrice})`);
  const allocated = sumAllocations(line.discount_allocations, money, `${path}.discount_allocations`);
  const taxLines = line.tax_lines ?? [];
  const tax = sumTaxLines(taxLines, money, `${path}.tax_lines`);
  const taxRate = taxLines.reduce((sum, taxLine) => {
    const rate = Number(taxLine.rate);
    return Number.isFinite(rate) && rate > 0 ? sum + rate : sum;
  }, 0);
  const kind: LineKind = isTipLine(line) ? "tip" : line.gift_card === true ? "gift_card" : quantity > 0 ? "merchandise" : "not_ordered";
  return { index, line, kind, quantity, unitPrice, allocated, tax, taxRate };
}

/** Shopify adds a line for a tip; only that line carries the tip_payment_* keys (possibly null). */
function isTipLine(line: ShopifyLineItem): boolean {
  return Object.prototype.hasOwnProperty.call(line, "tip_payment_gateway") || Object.prototype.hasOwnProperty.call(line, "tip_payment_method");
}

/** Pre-2018 payloads: a line's own discount, for when the order has no subtotal_price either. */
function legacyLineDiscount(line: ShopifyLineItem, money: MoneyReader, index: number): number {
  return money.readNonNegative(line, "total_discount", "total_discount_set", `line_items[${index}]`);
}

function sumAllocations(allocations: ShopifyDiscountAllocation[] | null | undefined, money: MoneyReader, path: string): number {
  return (allocations ?? []).reduce(
    (sum, allocation, index) => sum + money.readNonNegative(allocation, "amount", "amount_set", `${path}[${index}]`),
    0,
  );
}

function sumTaxLines(taxLines: ShopifyTaxLine[] | null | undefined, money: MoneyReader, path: string): number {
  return (taxLines ?? []).reduce((sum, taxLine, index) => sum + money.readNonNegative(taxLine, "price", "price_set", `${path}[${index}]`), 0);
}

function itemOf(line: ShopifyLineItem, price: number, quantity: number): RefersionItem {
  const item: RefersionItem = { price, quantity, sku: textOf(line.sku) ?? "" };
  const name = textOf(line.name) ?? textOf(line.title);
  if (name) item.name = name;
  return item;
}

/** What the buyer paid for shipping: discounted shipping lines, without tax in tax-inclusive stores. */
function shippingOf(order: ShopifyOrder, money: MoneyReader, taxesIncluded: boolean): number {
  let shipping = 0;
  (order.shipping_lines ?? []).forEach((line, index) => {
    if (line.is_removed === true) return;
    const path = `shipping_lines[${index}]`;
    let amount: number;
    if ((line.discounted_price !== undefined && line.discounted_price !== null) || line.discounted_price_set) {
      amount = money.readNonNegative(line, "discounted_price", "discounted_price_set", path);
    } else {
      amount = money.readNonNegative(line, "price", "price_set", path) - sumAllocations(line.discount_allocations, money, `${path}.discount_allocations`);
    }
    if (taxesIncluded) amount -= sumTaxLines(line.tax_lines, money, `${path}.tax_lines`);
    if (amount < -SLACK) throw new MappingError("inconsistent_amounts", `${path} comes to less than nothing after discounts and tax`);
    shipping += Math.max(0, amount);
  });
  return shipping;
}

/** total_tax; when an order lacks it, its tax_lines, else the tax lines of its lines and shipping. */
function taxOf(order: ShopifyOrder, money: MoneyReader, lines: LineFacts[]): number {
  const total = money.read(order, "total_tax", "total_tax_set", "");
  if (total !== undefined) {
    if (total < 0) throw new MappingError("inconsistent_amounts", `total_tax is negative (${total})`);
    return total;
  }
  if (order.tax_lines && order.tax_lines.length > 0) return sumTaxLines(order.tax_lines, money, "tax_lines");
  const shippingTax = (order.shipping_lines ?? []).reduce(
    (sum, line, index) => sum + sumTaxLines(line.tax_lines, money, `shipping_lines[${index}].tax_lines`),
    0,
  );
  return lines.reduce((sum, facts) => sum + facts.tax, shippingTax);
}

// ---------------------------------------------------------------------------------------------
// Identifiers and attributes

/**
 * The cart token without its `?key=` part; else the cart id our storefront script stored in the
 * `_rfsn_cart` note attribute; else an unguessable id derived from the shop and order id.
 */
function cartIdFor(order: ShopifyOrder, orderId: string, options: MappingOptions): string {
  const identifiers = new Set([orderId, textOf(order.order_number), textOf(order.name)].filter((value): value is string => Boolean(value)));
  const usable = (value: unknown): string | null => {
    const text = typeof value === "string" ? value.split("?")[0].trim() : "";
    return text && text.length <= CART_ID_MAX_LENGTH && !identifiers.has(text) ? text : null;
  };
  const fromToken = usable(order.cart_token);
  if (fromToken) return fromToken;
  const fromAttribute = usable(noteAttributesOf(order).get("_rfsn_cart"));
  if (fromAttribute) return fromAttribute;
  return derivedCartId(options, orderId);
}

/** HMAC-SHA256 of "shop:orderId" with the app's secret: stable per order, unguessable without the secret. */
export function derivedCartId(options: Pick<MappingOptions, "shop" | "cartIdSecret">, orderId: string): string {
  if (typeof options.cartIdSecret !== "string" || options.cartIdSecret.length === 0) {
    throw new MappingError("invalid_options", "The order has no cart token and the app has no secret to derive a cart id with");
  }
  const digest = createHmac("sha256", options.cartIdSecret).update(`${options.shop}:${orderId}`).digest("hex");
  return `${DERIVED_CART_ID_PREFIX}${digest.slice(0, 40)}`;
}

function discountCodesOf(order: ShopifyOrder): string | null {
  const codes: string[] = [];
  for (const entry of order.discount_codes ?? []) {
    const code = textOf(entry.code);
    if (code && !codes.includes(code)) codes.push(code);
  }
  return codes.length > 0 ? codes.join(",") : null;
}

function affiliateIdOf(order: ShopifyOrder): number | null {
  const value = noteAttributesOf(order).get("_rfsn_aid")?.trim() ?? "";
  if (!/^\d{1,15}$/.test(value)) return null;
  const id = Number(value);
  return id > 0 ? id : null;
}

/** note_attributes as name -> value (the first of duplicate names wins). */
function noteAttributesOf(order: ShopifyOrder): Map<string, string> {
  return nameValuePairs(order.note_attributes);
}

/** Reads `[{name, value}]` lists (and plain `{name: value}` objects) tolerantly. */
function nameValuePairs(value: unknown): Map<string, string> {
  const pairs = new Map<string, string>();
  const add = (name: unknown, entry: unknown) => {
    const key = textOf(name);
    const text = typeof entry === "string" ? entry : typeof entry === "number" && Number.isFinite(entry) ? String(entry) : null;
    if (key && text !== null && !pairs.has(key)) pairs.set(key, text);
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (entry && typeof entry === "object") {
        const record = entry as Record<string, unknown>;
        add(record.name ?? record.key, record.value);
      }
    }
  } else if (value && typeof value === "object") {
    for (const [name, entry] of Object.entries(value)) add(name, entry);
  }
  return pairs;
}

function tagsOf(order: ShopifyOrder): string[] {
  const raw = Array.isArray(order.tags) ? order.tags : typeof order.tags === "string" ? order.tags.split(",") : [];
  return raw.map((tag) => (typeof tag === "string" ? tag.trim().toLowerCase() : "")).filter(Boolean);
}

interface SubscriptionFacts {
  isSubscription: boolean;
  id: string | null;
}

/**
 * Subscription orders: Shopify subscription contracts (source_name), Recharge (tags, line
 * properties of subscribed lines), Skio (note attributes), Appstle and Seal (tags). The id is only ever one the
 * subscription app wrote; none is made up.
 */
function subscriptionOf(order: ShopifyOrder): SubscriptionFacts {
  const attributes = noteAttributesOf(order);
  const tags = tagsOf(order);
  const lineProperties = order.line_items.map((line) => nameValuePairs(line.properties));

  const skioId = usableId(attributes.get(SKIO_ID_ATTRIBUTE));
  const rechargeId = lineProperties.map((properties) => properties.get(RECHARGE_SUBSCRIPTION_ID_PROPERTY)?.trim() ?? "").find((id) => /^\d{1,20}$/.test(id));

  const isSubscription =
    Boolean(skioId) ||
    attributes.get(SKIO_PROVIDER_ATTRIBUTE)?.trim().toLowerCase() === "skio" ||
    SUBSCRIPTION_CONTRACT_SOURCES.has(typeof order.source_name === "string" ? order.source_name.trim() : "") ||
    tags.some((tag) => SUBSCRIPTION_TAGS.has(tag) || tag.startsWith("seal subscription") || tag.startsWith("seal_subscription")) ||
    Boolean(rechargeId) ||
    lineProperties.some((properties) => RECHARGE_LINE_PROPERTIES.some((name) => properties.has(name)));

  return { isSubscription, id: isSubscription ? (skioId ?? rechargeId ?? null) : null };
}

function usableId(value: string | undefined): string | null {
  const text = value?.trim() ?? "";
  return text && text.length <= 255 ? text : null;
}

// ---------------------------------------------------------------------------------------------
// Customer

function customerOf(order: ShopifyOrder): RefersionCustomer | null {
  const customer = recordOf(order.customer);
  const billing = recordOf(order.billing_address);
  const client = recordOf(order.client_details);
  const result: RefersionCustomer = {};
  const firstName = personalText(customer?.first_name) ?? personalText(billing?.first_name);
  const lastName = personalText(customer?.last_name) ?? personalText(billing?.last_name);
  const email = emailOf(customer?.email) ?? emailOf(order.email) ?? emailOf(order.contact_email);
  const ip = ipOf(order.browser_ip) ?? ipOf(client?.browser_ip);
  if (firstName) result.first_name = firstName;
  if (lastName) result.last_name = lastName;
  if (email) result.email = email;
  if (ip) result.ip_address = ip;
  return Object.keys(result).length > 0 ? result : null;
}

function customerIdOf(value: unknown): string | null {
  const customer = recordOf(value);
  if (!customer) return null;
  const gid = typeof customer.admin_graphql_api_id === "string" ? /^gid:\/\/shopify\/Customer\/(\d+)$/.exec(customer.admin_graphql_api_id.trim()) : null;
  if (gid) return gid[1];
  if (typeof customer.id === "number" && Number.isSafeInteger(customer.id) && customer.id > 0) return String(customer.id);
  if (typeof customer.id === "string" && /^\d{1,30}$/.test(customer.id)) return customer.id;
  return null;
}

/** A name as Shopify sent it, or null when it is missing, blank or a redaction placeholder. */
function personalText(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (!text || /^\W*redacted\W*$/i.test(text) || /^[*•]+$/.test(text)) return null;
  return text;
}

function emailOf(value: unknown): string | null {
  const text = personalText(value);
  return text && /^[^\s@]+@[^\s@]+$/.test(text) && !/redacted/i.test(text) ? text : null;
}

function ipOf(value: unknown): string | null {
  const text = typeof value === "string" ? value.trim() : "";
  if (!text || isIP(text) === 0) return null;
  // The unspecified address is a placeholder, not the buyer's.
  return text === "0.0.0.0" || text === "::" ? null : text;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function recordOf(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function textOf(value: unknown): string | null {
  if (typeof value === "string") return value.trim() || null;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/** Rounds half away from zero at `decimals`, tolerating binary noise (1.005 -> 1.01). */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const scaled = Math.abs(value) * factor;
  const rounded = (Math.sign(value) * Math.round(scaled * (1 + 1e-12))) / factor;
  return rounded === 0 ? 0 : rounded;
}

/** The keys in the order of Refersion's own example, without empty optional ones. */
function orderedConversion(conversion: RefersionConversion): RefersionConversion {
  const ordered: RefersionConversion = {
    cart_id: conversion.cart_id,
    order_id: conversion.order_id,
    ...(conversion.is_subscription ? { is_subscription: true } : {}),
    ...(conversion.subscription_id ? { subscription_id: conversion.subscription_id } : {}),
    ...(conversion.auto_credit_affiliate_id !== undefined ? { auto_credit_affiliate_id: conversion.auto_credit_affiliate_id } : {}),
    shipping: conversion.shipping,
    tax: conversion.tax,
    discount: conversion.discount,
    ...(conversion.discount_code ? { discount_code: conversion.discount_code } : {}),
    currency_code: conversion.currency_code,
    ...(conversion.customer ? { customer: conversion.customer } : {}),
    items: conversion.items,
  };
  return ordered;
}

function safeMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "unknown error";
  }
}
