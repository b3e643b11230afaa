/**
 * "Resend past orders" reads orders through the Admin GraphQL API (REST is deprecated for new
 * public apps), while the mapping (app/refersion/mapping.ts) reads the REST Order of the order
 * webhooks. This module holds the GraphQL operations and turns the GraphQL Order they return
 * into the REST-shaped fields the mapping reads, so a past order is sent exactly as its
 * orders/create would have been. Pure; the field-by-field table is in docs/lifecycle.md.
 */

// ---------------------------------------------------------------------------------------------
// Operations. Costs are kept under Shopify's limit of 1,000 points for a single query: a page
// lists order ids only (2 + 50 objects), and each order is read on its own with up to 50 lines
// per request (about 800 points requested; the actual cost, charged afterwards, is far lower).

export const ORDERS_PAGE_SIZE = 50;
export const LINES_PAGE_SIZE = 50;

export const ORDER_COUNT_QUERY = `#graphql
query BackfillOrderCount($query: String!) {
  ordersCount(query: $query, limit: null) { count precision }
}`;

export const ORDER_PAGE_QUERY = `#graphql
query BackfillOrderPage($query: String!, $after: String) {
  orders(first: ${ORDERS_PAGE_SIZE}, after: $after, query: $query, sortKey: CREATED_AT) {
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}`;

const MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }";

/**
 * One order with what the mapping reads. The buyer's name, email and IP are protected customer
 * data: they are asked for only when the shop sends customer details (`personalData`).
 */
export function orderQuery(options: { personalData: boolean }): string {
  const personal = options.personalData
    ? `
    email
    clientIp
    customer { id firstName lastName email }
    billingAddress { firstName lastName }`
    : "";
  return `#graphql
query BackfillOrder($id: ID!, $linesAfter: String) {
  order(id: $id) {
    id
    legacyResourceId
    name
    createdAt
    test
    currencyCode
    presentmentCurrencyCode
    taxesIncluded
    displayFinancialStatus
    cancelledAt
    sourceName
    tags
    discountCodes
    cartToken
    customAttributes { key value }
    subtotalPriceSet { ${MONEY} }
    totalPriceSet { ${MONEY} }
    totalTaxSet { ${MONEY} }
    totalDiscountsSet { ${MONEY} }
    taxLines { rate title priceSet { ${MONEY} } }
    shippingLines(first: 5) {
      nodes {
        originalPriceSet { ${MONEY} }
        discountedPriceSet { ${MONEY} }
        taxLines { rate priceSet { ${MONEY} } }
        discountAllocations { allocatedAmountSet { ${MONEY} } }
      }
    }
    lineItems(first: ${LINES_PAGE_SIZE}, after: $linesAfter) {
      nodes {
        id
        name
        title
        sku
        quantity
        isGiftCard
        originalUnitPriceSet { ${MONEY} }
        customAttributes { key value }
        sellingPlan { sellingPlanId }
        taxLines { rate priceSet { ${MONEY} } }
        discountAllocations { allocatedAmountSet { ${MONEY} } }
      }
      pageInfo { hasNextPage endCursor }
    }${personal}
  }
}`;
}

/** How many refunds of a partially refunded past order are read (and reversed), and lines of each. */
export const REFUNDS_READ = 5;
export const REFUND_LINES_READ = 50;

/**
 * The refunds of a partially refunded past order, to reverse them beside it (about 540 points
 * requested). Only asked for orders Shopify reports as partially refunded.
 */
export const ORDER_REFUNDS_QUERY = `#graphql
query BackfillOrderRefunds($id: ID!) {
  order(id: $id) {
    refunds(first: ${REFUNDS_READ}) {
      id
      legacyResourceId
      totalRefundedSet { ${MONEY} }
      refundLineItems(first: ${REFUND_LINES_READ}) {
        nodes { quantity lineItem { id sku name title } }
      }
    }
  }
}`;

/** The orders search of a date range: whole UTC days, `until` included. */
export function ordersSearchQuery(since: Date, until: Date | null): string {
  const terms = [`created_at:>='${since.toISOString()}'`];
  if (until) terms.push(`created_at:<='${until.toISOString()}'`);
  return terms.join(" ");
}

// ---------------------------------------------------------------------------------------------
// The GraphQL Order (the part the operations above select)

export interface GqlMoney {
  amount: string;
  currencyCode: string;
}
export interface GqlMoneyBag {
  shopMoney: GqlMoney;
  presentmentMoney: GqlMoney;
}
export interface GqlTaxLine {
  rate?: number | null;
  title?: string | null;
  priceSet: GqlMoneyBag;
}
export interface GqlDiscountAllocation {
  allocatedAmountSet: GqlMoneyBag;
}
export interface GqlAttribute {
  key: string;
  value: string | null;
}
export interface GqlLineItem {
  id: string;
  name: string | null;
  title: string | null;
  sku: string | null;
  quantity: number;
  isGiftCard: boolean;
  originalUnitPriceSet: GqlMoneyBag;
  customAttributes: GqlAttribute[];
  sellingPlan: { sellingPlanId: string | null } | null;
  taxLines: GqlTaxLine[];
  discountAllocations: GqlDiscountAllocation[];
}
export interface GqlShippingLine {
  originalPriceSet: GqlMoneyBag;
  discountedPriceSet: GqlMoneyBag;
  taxLines: GqlTaxLine[];
  discountAllocations: GqlDiscountAllocation[];
}
export interface GqlOrder {
  id: string;
  legacyResourceId: string;
  name: string | null;
  createdAt: string;
  test: boolean;
  currencyCode: string;
  presentmentCurrencyCode: string;
  taxesIncluded: boolean;
  displayFinancialStatus: string | null;
  cancelledAt: string | null;
  sourceName: string | null;
  tags: string[];
  discountCodes: string[];
  cartToken: string | null;
  customAttributes: GqlAttribute[];
  subtotalPriceSet: GqlMoneyBag | null;
  totalPriceSet: GqlMoneyBag | null;
  totalTaxSet: GqlMoneyBag | null;
  totalDiscountsSet: GqlMoneyBag | null;
  taxLines: GqlTaxLine[];
  shippingLines: { nodes: GqlShippingLine[] };
  lineItems: { nodes: GqlLineItem[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  email?: string | null;
  clientIp?: string | null;
  customer?: { id: string; firstName?: string | null; lastName?: string | null; email?: string | null } | null;
  billingAddress?: { firstName?: string | null; lastName?: string | null } | null;
}

export interface GqlRefund {
  id: string;
  legacyResourceId: string;
  totalRefundedSet: GqlMoneyBag;
  refundLineItems: { nodes: { quantity: number; lineItem: { id: string; sku: string | null; name: string | null; title: string | null } }[] };
}

// ---------------------------------------------------------------------------------------------
// GraphQL -> REST

type Json = Record<string, unknown>;

/** "gid://shopify/LineItem/123" -> "123" (exact digits, whatever their size). */
export function gidDigits(gid: string | null | undefined): string | null {
  const match = typeof gid === "string" ? /\/(\d+)$/.exec(gid) : null;
  return match ? match[1] : null;
}

function moneySet(bag: GqlMoneyBag | null | undefined): Json | null {
  if (!bag) return null;
  return {
    shop_money: { amount: bag.shopMoney.amount, currency_code: bag.shopMoney.currencyCode },
    presentment_money: { amount: bag.presentmentMoney.amount, currency_code: bag.presentmentMoney.currencyCode },
  };
}

/** A REST amount field and its `_set` twin: `{price: "1.00", price_set: {...}}`. */
function money(field: string, bag: GqlMoneyBag | null | undefined): Json {
  return bag ? { [field]: bag.shopMoney.amount, [`${field}_set`]: moneySet(bag) } : {};
}

function taxLines(lines: GqlTaxLine[]): Json[] {
  return lines.map((line) => ({ ...(line.title ? { title: line.title } : {}), rate: line.rate ?? null, ...money("price", line.priceSet) }));
}

function allocations(list: GqlDiscountAllocation[]): Json[] {
  return list.map((allocation) => money("amount", allocation.allocatedAmountSet));
}

function nameValues(attributes: GqlAttribute[]): Json[] {
  return attributes.map((attribute) => ({ name: attribute.key, value: attribute.value }));
}

/**
 * The REST Order fields the mapping reads, from a GraphQL Order whose line items were all read
 * (`lines`, across pages). Ids come from the gids (exact), amounts keep Shopify's strings.
 */
export function toRestOrder(order: GqlOrder, lines: GqlLineItem[] = order.lineItems.nodes): Json {
  const customer = order.customer
    ? {
        id: gidDigits(order.customer.id),
        admin_graphql_api_id: order.customer.id,
        ...(order.customer.firstName !== undefined ? { first_name: order.customer.firstName } : {}),
        ...(order.customer.lastName !== undefined ? { last_name: order.customer.lastName } : {}),
        ...(order.customer.email !== undefined ? { email: order.customer.email } : {}),
      }
    : null;
  return {
    id: order.legacyResourceId,
    admin_graphql_api_id: order.id,
    name: order.name,
    created_at: order.createdAt,
    test: order.test,
    currency: order.currencyCode,
    presentment_currency: order.presentmentCurrencyCode,
    taxes_included: order.taxesIncluded,
    financial_status: order.displayFinancialStatus ? order.displayFinancialStatus.toLowerCase() : null,
    cancelled_at: order.cancelledAt,
    source_name: order.sourceName,
    tags: order.tags.join(", "),
    discount_codes: order.discountCodes.map((code) => ({ code })),
    cart_token: order.cartToken,
    note_attributes: nameValues(order.customAttributes),
    ...money("subtotal_price", order.subtotalPriceSet),
    ...money("total_price", order.totalPriceSet),
    ...money("total_tax", order.totalTaxSet),
    ...money("total_discounts", order.totalDiscountsSet),
    tax_lines: taxLines(order.taxLines),
    line_items: lines.map((line) => ({
      id: gidDigits(line.id),
      admin_graphql_api_id: line.id,
      name: line.name,
      title: line.title,
      sku: line.sku,
      quantity: line.quantity,
      gift_card: line.isGiftCard,
      ...money("price", line.originalUnitPriceSet),
      properties: nameValues(line.customAttributes),
      selling_plan_id: gidDigits(line.sellingPlan?.sellingPlanId),
      tax_lines: taxLines(line.taxLines),
      discount_allocations: allocations(line.discountAllocations),
    })),
    shipping_lines: order.shippingLines.nodes.map((line) => ({
      ...money("price", line.originalPriceSet),
      ...money("discounted_price", line.discountedPriceSet),
      tax_lines: taxLines(line.taxLines),
      discount_allocations: allocations(line.discountAllocations),
    })),
    ...("email" in order ? { email: order.email ?? null } : {}),
    ...("clientIp" in order ? { browser_ip: order.clientIp ?? null } : {}),
    ...("customer" in order ? { customer } : {}),
    ...("billingAddress" in order
      ? { billing_address: order.billingAddress ? { first_name: order.billingAddress.firstName ?? null, last_name: order.billingAddress.lastName ?? null } : null }
      : {}),
  };
}

/**
 * A refund of a past order as the refunds/create payload it would have been (the fields the
 * reversal reads): its lines with their line items, and one refund transaction of the total
 * refunded, so "no money back" reads the same as in a webhook.
 */
export function toRestRefund(orderId: string, refund: GqlRefund): Json {
  return {
    id: refund.legacyResourceId,
    admin_graphql_api_id: refund.id,
    order_id: orderId,
    refund_line_items: refund.refundLineItems.nodes.map((line) => ({
      line_item_id: gidDigits(line.lineItem.id),
      quantity: line.quantity,
      line_item: { id: gidDigits(line.lineItem.id), admin_graphql_api_id: line.lineItem.id, sku: line.lineItem.sku, name: line.lineItem.name, title: line.lineItem.title },
    })),
    transactions: [
      {
        kind: "refund",
        status: "success",
        amount: refund.totalRefundedSet.shopMoney.amount,
        currency: refund.totalRefundedSet.shopMoney.currencyCode,
      },
    ],
  };
}
