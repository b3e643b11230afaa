import { z } from "zod";

/**
 * The part of Shopify's REST Order resource (the body of an orders/create webhook) that the
 * Refersion mapping reads. Lenient on purpose: unknown keys are kept, money may be a string or a
 * number, and fields that older API versions (2016 onwards) lack may be missing or null.
 * Fields that only describe the buyer, the storefront or our own attributes are read as unknown
 * and checked where they are used, so a malformed one is left out instead of failing the order.
 */

const DECIMAL = /^\s*-?\d+(\.\d+)?\s*$/;

/** Shows an offending value briefly in an error message (never used for customer fields). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** A text field as the mapping reads it: trimmed, a number as its digits; null when blank or anything else. */
export function textOf(value: unknown): string | null {
  if (typeof value === "string") return value.trim() || null;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * Longest amount text read. Shopify writes at most a dozen digits and four decimals; anything
 * longer is refused before any pattern or number parsing looks at it.
 */
export const AMOUNT_MAX_LENGTH = 64;

/** A money amount as Shopify sends it: "12.34" (or 12.34 in a few older or hand-made payloads). */
export const Amount = z.custom<string | number>(
  (value) =>
    typeof value === "number" ? Number.isFinite(value) : typeof value === "string" && value.length <= AMOUNT_MAX_LENGTH && DECIMAL.test(value),
  { error: (issue) => `should be an amount like "12.34", not ${describeValue(issue.input)}` },
);

/** A whole, non-negative count; a string of digits is accepted too. */
export const Quantity = z.custom<number | string>(
  (value) =>
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ||
    (typeof value === "string" && /^\s*\d{1,15}\s*$/.test(value)),
  { error: (issue) => `should be a whole number, not ${describeValue(issue.input)}` },
);

/** A Shopify id: a number, or a string of digits when it was read without rounding (see parseOrderJson). */
export const NumericId = z.custom<number | string>(
  (value) => (typeof value === "number" && Number.isInteger(value) && value > 0) || (typeof value === "string" && /^\d{1,30}$/.test(value)),
  { error: (issue) => `should be a positive whole number, not ${describeValue(issue.input)}` },
);

const MoneyBag = z.looseObject({
  amount: Amount,
  currency_code: z.string().nullish(),
});

/** `*_set` fields: the amount in the shop's currency and in the buyer's (presentment) currency. */
export const MoneySet = z.looseObject({
  shop_money: MoneyBag.nullish(),
  presentment_money: MoneyBag.nullish(),
});

export const TaxLine = z.looseObject({
  price: Amount.nullish(),
  price_set: MoneySet.nullish(),
  rate: z.union([z.number(), z.string()]).nullish(),
  title: z.unknown().optional(),
});

export const DiscountAllocation = z.looseObject({
  amount: Amount.nullish(),
  amount_set: MoneySet.nullish(),
  discount_application_index: z.unknown().optional(),
});

export const LineItem = z.looseObject({
  id: z.unknown().optional(),
  quantity: Quantity,
  price: Amount,
  price_set: MoneySet.nullish(),
  sku: z.unknown().optional(),
  name: z.unknown().optional(),
  title: z.unknown().optional(),
  gift_card: z.unknown().optional(),
  tax_lines: z.array(TaxLine).nullish(),
  discount_allocations: z.array(DiscountAllocation).nullish(),
  total_discount: Amount.nullish(),
  total_discount_set: MoneySet.nullish(),
  properties: z.unknown().optional(),
  /** Set by Shopify's checkout on a line bought with a selling plan (a subscription, a pre-order, ...). */
  selling_plan_allocation: z.unknown().optional(),
  /** Present (possibly null) only on the line Shopify adds for a tip. */
  tip_payment_gateway: z.unknown().optional(),
  tip_payment_method: z.unknown().optional(),
});

export const ShippingLine = z.looseObject({
  price: Amount.nullish(),
  price_set: MoneySet.nullish(),
  discounted_price: Amount.nullish(),
  discounted_price_set: MoneySet.nullish(),
  tax_lines: z.array(TaxLine).nullish(),
  discount_allocations: z.array(DiscountAllocation).nullish(),
  is_removed: z.unknown().optional(),
});

export const DiscountCode = z.looseObject({
  code: z.unknown().optional(),
  amount: z.unknown().optional(),
  type: z.unknown().optional(),
});

export const ShopifyOrderSchema = z.looseObject({
  id: NumericId.nullish(),
  admin_graphql_api_id: z.string().nullish(),
  name: z.unknown().optional(),
  order_number: z.unknown().optional(),
  currency: z.string(),
  presentment_currency: z.string().nullish(),
  taxes_included: z.boolean().nullish(),
  test: z.unknown().optional(),

  subtotal_price: Amount.nullish(),
  subtotal_price_set: MoneySet.nullish(),
  total_price: Amount.nullish(),
  total_price_set: MoneySet.nullish(),
  total_tax: Amount.nullish(),
  total_tax_set: MoneySet.nullish(),
  total_discounts: Amount.nullish(),
  total_discounts_set: MoneySet.nullish(),
  tax_lines: z.array(TaxLine).nullish(),

  line_items: z.array(LineItem),
  shipping_lines: z.array(ShippingLine).nullish(),
  discount_codes: z.array(DiscountCode).nullish(),

  cart_token: z.unknown().optional(),
  note_attributes: z.unknown().optional(),
  source_name: z.unknown().optional(),
  tags: z.unknown().optional(),

  customer: z.unknown().optional(),
  billing_address: z.unknown().optional(),
  email: z.unknown().optional(),
  contact_email: z.unknown().optional(),
  browser_ip: z.unknown().optional(),
  client_details: z.unknown().optional(),
});

export type ShopifyOrder = z.infer<typeof ShopifyOrderSchema>;
export type ShopifyLineItem = z.infer<typeof LineItem>;
export type ShopifyShippingLine = z.infer<typeof ShippingLine>;
export type ShopifyTaxLine = z.infer<typeof TaxLine>;
export type ShopifyDiscountAllocation = z.infer<typeof DiscountAllocation>;
export type ShopifyMoneySet = z.infer<typeof MoneySet>;

/**
 * Parses an order body like JSON.parse, except that whole numbers too large for a JavaScript
 * number (Shopify ids can exceed 2^53) are kept as their exact digits, as strings.
 */
export function parseOrderJson(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
      return context.source;
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}
