import { MappingError, type RefersionItem } from "./conversion";
import { readMoney, readNonNegativeMoney, writtenAmount, type MoneyHolder, type OrderCurrencies } from "./money";
import { textOf, type ShopifyDiscountAllocation, type ShopifyLineItem, type ShopifyOrder, type ShopifyShippingLine, type ShopifyTaxLine } from "./shopify-order";

/**
 * The order's amounts as Refersion wants them: unit prices and the merchandise discount before
 * tax, shipping as paid, tax, and the total. Not rounded (mapping.ts rounds, once, at the end).
 * The rules are in docs/mapping.md (Items, Discount, Shipping, Tax).
 */

export interface Amounts {
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
  /** Σ of the line's discount_allocations. */
  allocated: number;
  /** Σ of the line's tax_lines. */
  tax: number;
  /** Σ of the line's tax rates, for a line discounted to nothing. */
  taxRate: number;
}

/** The merchandise lines' contribution: items, their discount and what is left of them. */
interface Merchandise {
  items: RefersionItem[];
  discount: number;
  /** Pre-tax merchandise after discounts. */
  afterDiscounts: number;
}

const EPSILON = 1e-6;
/** Plausibility checks let a cent of conversion rounding pass; anything more is refused. */
const SLACK = 0.01;

/**
 * Reads and checks in a fixed order (lines, merchandise, shipping, tax, total): the first problem
 * met is the one the delivery log shows, so the order is part of the output.
 */
export function computeAmounts(order: ShopifyOrder, currencies: OrderCurrencies): Amounts {
  const taxesIncluded = order.taxes_included === true;
  const lines = order.line_items.map((line, index) => lineFacts(line, index, currencies));
  const merchandise = hasDiscountAllocations(order)
    ? allocatedMerchandise(lines, taxesIncluded)
    : unallocatedMerchandise(order, lines, currencies, taxesIncluded);
  const shipping = shippingOf(order, currencies, taxesIncluded);
  const tax = taxOf(order, currencies, lines);
  const total = readMoney(currencies, order, "total_price", "total_price_set", "") ?? merchandise.afterDiscounts + shipping + tax;
  if (total < 0) throw new MappingError("inconsistent_amounts", `total_price is negative (${total})`);
  return { items: merchandise.items, discount: merchandise.discount, shipping, tax, total, merchandise: merchandise.afterDiscounts };
}

/**
 * Every amount computeAmounts reads, as the payload writes it, for the rounding decision
 * (money.ts, reportingDecimals). Which amounts those are follows from the payload alone, by the
 * same choices computeAmounts makes (allocated or not, shipping lines kept, the tax fallback), so
 * the decimals are known before anything is computed. Nothing is checked here: computeAmounts
 * refuses what is wrong, and a refused order is never rounded.
 */
export function amountsRead(order: ShopifyOrder, currencies: OrderCurrencies): unknown[] {
  const written = (holder: MoneyHolder, plainKey: string, setKey: string) => writtenAmount(currencies, holder, plainKey, setKey);
  const allocations = (list: ShopifyDiscountAllocation[] | null | undefined) => (list ?? []).map((allocation) => written(allocation, "amount", "amount_set"));
  const taxes = (list: ShopifyTaxLine[] | null | undefined) => (list ?? []).map((taxLine) => written(taxLine, "price", "price_set"));

  const lines = order.line_items.flatMap((line) => [
    written(line, "price", "price_set"),
    ...allocations(line.discount_allocations),
    ...taxes(line.tax_lines),
  ]);
  const unallocated = hasDiscountAllocations(order)
    ? []
    : [
        ...order.line_items.filter((line) => lineKindOf(line) === "merchandise").map((line) => written(line, "total_discount", "total_discount_set")),
        written(order, "subtotal_price", "subtotal_price_set"),
      ];
  const shipping = (order.shipping_lines ?? [])
    .filter((line) => line.is_removed !== true)
    .flatMap((line) => [
      ...(hasDiscountedPrice(line)
        ? [written(line, "discounted_price", "discounted_price_set")]
        : [written(line, "price", "price_set"), ...allocations(line.discount_allocations)]),
      ...(order.taxes_included === true ? taxes(line.tax_lines) : []),
    ]);
  const totalTax = written(order, "total_tax", "total_tax_set");
  // Without total_tax: the order's tax lines, else its shipping lines' (its lines' are above).
  const taxLines =
    totalTax !== undefined
      ? []
      : order.tax_lines && order.tax_lines.length > 0
        ? taxes(order.tax_lines)
        : (order.shipping_lines ?? []).flatMap((line) => taxes(line.tax_lines));
  return [...lines, ...unallocated, ...shipping, totalTax, ...taxLines, written(order, "total_price", "total_price_set")];
}

// ---------------------------------------------------------------------------------------------
// Lines

/** Since 2018 every discount is allocated to the lines (or shipping lines) it applies to. */
function hasDiscountAllocations(order: ShopifyOrder): boolean {
  return order.line_items.some((line) => Array.isArray(line.discount_allocations));
}

function lineKindOf(line: ShopifyLineItem): LineKind {
  return isTipLine(line) ? "tip" : line.gift_card === true ? "gift_card" : Number(line.quantity) > 0 ? "merchandise" : "not_ordered";
}

/** Shopify adds a line for a tip; only that line carries the tip_payment_* keys (possibly null). */
function isTipLine(line: ShopifyLineItem): boolean {
  return Object.prototype.hasOwnProperty.call(line, "tip_payment_gateway") || Object.prototype.hasOwnProperty.call(line, "tip_payment_method");
}

function lineFacts(line: ShopifyLineItem, index: number, currencies: OrderCurrencies): LineFacts {
  const path = `line_items[${index}]`;
  const quantity = Number(line.quantity);
  const unitPrice = readMoney(currencies, line, "price", "price_set", path);
  if (unitPrice === undefined) throw new MappingError("invalid_field", `${path}.price is missing`);
  if (unitPrice < 0) throw new MappingError("inconsistent_amounts", `${path}.price is negative (${unitPrice})`);
  const allocated = sumAllocations(line.discount_allocations, currencies, `${path}.discount_allocations`);
  const taxLines = line.tax_lines ?? [];
  const tax = sumTaxLines(taxLines, currencies, `${path}.tax_lines`);
  const taxRate = taxLines.reduce((rates, taxLine) => {
    const rate = Number(taxLine.rate);
    return Number.isFinite(rate) && rate > 0 ? rates + rate : rates;
  }, 0);
  return { index, line, kind: lineKindOf(line), quantity, unitPrice, allocated, tax, taxRate };
}

/**
 * Tax-inclusive prices: the share of the line (after its discounts) that is not tax. Price and
 * discount are both multiplied by it, so the line's own tax comes out of them alike.
 */
function netShareOf(facts: LineFacts, afterDiscounts: number): number {
  if (facts.tax - afterDiscounts > SLACK) {
    throw new MappingError("inconsistent_amounts", `line_items[${facts.index}].tax_lines add up to more than the line costs`);
  }
  return afterDiscounts - facts.tax > EPSILON ? (afterDiscounts - facts.tax) / afterDiscounts : 1 / (1 + facts.taxRate);
}

function itemOf(line: ShopifyLineItem, price: number, quantity: number): RefersionItem {
  const item: RefersionItem = { price, quantity, sku: textOf(line.sku) ?? "" };
  const name = textOf(line.name) ?? textOf(line.title);
  if (name) item.name = name;
  return item;
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

// ---------------------------------------------------------------------------------------------
// Merchandise

/** Orders with discount_allocations: the discount is what was allocated to the merchandise lines. */
function allocatedMerchandise(lines: LineFacts[], taxesIncluded: boolean): Merchandise {
  const priced = lines
    .filter((facts) => facts.kind === "merchandise")
    .map((facts) => {
      const gross = facts.unitPrice * facts.quantity;
      if (facts.allocated - gross > SLACK) {
        throw new MappingError("inconsistent_amounts", `line_items[${facts.index}] is discounted by more than it costs`);
      }
      const afterDiscounts = gross - facts.allocated;
      const netShare = taxesIncluded ? netShareOf(facts, afterDiscounts) : 1;
      return {
        item: itemOf(facts.line, facts.unitPrice * netShare, facts.quantity),
        discount: facts.allocated * netShare,
        afterDiscounts,
        tax: taxesIncluded ? facts.tax : 0,
      };
    });
  return {
    items: priced.map((line) => line.item),
    discount: sum(priced.map((line) => line.discount)),
    afterDiscounts: sum(priced.map((line) => line.afterDiscounts)) - sum(priced.map((line) => line.tax)),
  };
}

/**
 * Payloads from before 2018 have no allocations: the merchandise discount is what the subtotal
 * lacks (subtotal_price: the lines after discounts, before shipping and tax; tax-inclusive
 * stores: with their tax), or, without a subtotal, the lines' own total_discount.
 */
function unallocatedMerchandise(order: ShopifyOrder, lines: LineFacts[], currencies: OrderCurrencies, taxesIncluded: boolean): Merchandise {
  const priced = lines
    .filter((facts) => facts.kind === "merchandise")
    .map((facts) => {
      const gross = facts.unitPrice * facts.quantity;
      const netShare = taxesIncluded ? netShareOf(facts, gross) : 1;
      // Read (and so checked) even when the subtotal decides the discount.
      const ownDiscount = readNonNegativeMoney(currencies, facts.line, "total_discount", "total_discount_set", `line_items[${facts.index}]`);
      return {
        item: itemOf(facts.line, facts.unitPrice * netShare, facts.quantity),
        afterOwnDiscount: gross - ownDiscount,
        tax: taxesIncluded ? facts.tax : 0,
      };
    });
  const items = priced.map((line) => line.item);
  const itemsTotal = sum(items.map((item) => item.price * item.quantity));
  const subtotal = readMoney(currencies, order, "subtotal_price", "subtotal_price_set", "");
  // Gift cards bought count in the subtotal; tips do not (and predate these payloads anyway).
  const giftCards = sum(lines.filter((facts) => facts.kind === "gift_card").map((facts) => facts.unitPrice * facts.quantity));
  const afterDiscountsWithTax = subtotal !== undefined ? subtotal - giftCards : sum(priced.map((line) => line.afterOwnDiscount));
  const discount = Math.max(0, itemsTotal - (afterDiscountsWithTax - sum(priced.map((line) => line.tax))));
  return { items, discount, afterDiscounts: itemsTotal - discount };
}

// ---------------------------------------------------------------------------------------------
// Shipping and tax

function hasDiscountedPrice(line: ShopifyShippingLine): boolean {
  return (line.discounted_price !== undefined && line.discounted_price !== null) || Boolean(line.discounted_price_set);
}

/** What the buyer paid for shipping: discounted shipping lines, without tax in tax-inclusive stores. */
function shippingOf(order: ShopifyOrder, currencies: OrderCurrencies, taxesIncluded: boolean): number {
  const paid = (order.shipping_lines ?? []).flatMap((line, index) => {
    if (line.is_removed === true) return [];
    const path = `shipping_lines[${index}]`;
    const charged = hasDiscountedPrice(line)
      ? readNonNegativeMoney(currencies, line, "discounted_price", "discounted_price_set", path)
      : readNonNegativeMoney(currencies, line, "price", "price_set", path) - sumAllocations(line.discount_allocations, currencies, `${path}.discount_allocations`);
    const withoutTax = taxesIncluded ? charged - sumTaxLines(line.tax_lines, currencies, `${path}.tax_lines`) : charged;
    if (withoutTax < -SLACK) throw new MappingError("inconsistent_amounts", `${path} comes to less than nothing after discounts and tax`);
    return [Math.max(0, withoutTax)];
  });
  return sum(paid);
}

/** total_tax; when an order lacks it, its tax_lines, else the tax lines of its lines and shipping. */
function taxOf(order: ShopifyOrder, currencies: OrderCurrencies, lines: LineFacts[]): number {
  const total = readMoney(currencies, order, "total_tax", "total_tax_set", "");
  if (total !== undefined) {
    if (total < 0) throw new MappingError("inconsistent_amounts", `total_tax is negative (${total})`);
    return total;
  }
  if (order.tax_lines && order.tax_lines.length > 0) return sumTaxLines(order.tax_lines, currencies, "tax_lines");
  const shippingTax = sum((order.shipping_lines ?? []).map((line, index) => sumTaxLines(line.tax_lines, currencies, `shipping_lines[${index}].tax_lines`)));
  return lines.reduce((taxSoFar, facts) => taxSoFar + facts.tax, shippingTax);
}

function sumAllocations(allocations: ShopifyDiscountAllocation[] | null | undefined, currencies: OrderCurrencies, path: string): number {
  return sum((allocations ?? []).map((allocation, index) => readNonNegativeMoney(currencies, allocation, "amount", "amount_set", `${path}[${index}]`)));
}

function sumTaxLines(taxLines: ShopifyTaxLine[] | null | undefined, currencies: OrderCurrencies, path: string): number {
  return sum((taxLines ?? []).map((taxLine, index) => readNonNegativeMoney(currencies, taxLine, "price", "price_set", `${path}[${index}]`)));
}
