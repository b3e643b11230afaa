/**
 * Past orders for "resend past orders": the real fixtures as Shopify's Admin GraphQL API returns
 * them (for scripts/shopify-admin-standin.ts), beside the REST payloads of the same orders.
 */
import type { GqlLineItem, GqlMoneyBag, GqlOrder, GqlTaxLine } from "~/backfill/graphql-order";
import { parseOrderJson } from "~/refersion/shopify-order";
import type { StandinOrder } from "../../scripts/shopify-admin-standin";
import { orderFixtureNames, orderFixtureText } from "./fixtures";

type Json = Record<string, unknown>;

/** The fixtures an Admin API read can return (with *_set amounts; see graphql-order.unit.test.ts). */
export function modernFixtures(): string[] {
  return orderFixtureNames().filter((name) => "total_price_set" in (parseOrderJson(orderFixtureText(name)) as Json));
}

/**
 * `count` past orders made from the real fixtures (cycled), each with its own id and name, created
 * one hour apart from `start`: live (not test) orders, not cancelled, paid unless told otherwise.
 */
export function pastOrders(count: number, options: { start: string; firstId: number; financialStatus?: string }): { rest: Json; graphql: GqlOrder }[] {
  const fixtures = modernFixtures();
  return Array.from({ length: count }, (_, index) => {
    const id = options.firstId + index;
    const rest = {
      ...(parseOrderJson(orderFixtureText(fixtures[index % fixtures.length])) as Json),
      id,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      name: `#P${id}`,
      created_at: new Date(Date.parse(options.start) + index * 3_600_000).toISOString(),
      financial_status: options.financialStatus ?? "paid",
      cancelled_at: null,
      test: false,
    };
    return { rest, graphql: graphqlOrderOf(rest, String(id)) };
  });
}

function bag(holder: Json, field: string, shopCurrency: string, presentmentCurrency: string): GqlMoneyBag | null {
  const set = holder[`${field}_set`] as { shop_money?: Json; presentment_money?: Json } | undefined;
  if (set?.shop_money && set.presentment_money) {
    return {
      shopMoney: { amount: String(set.shop_money.amount), currencyCode: String(set.shop_money.currency_code ?? shopCurrency) },
      presentmentMoney: { amount: String(set.presentment_money.amount), currencyCode: String(set.presentment_money.currency_code ?? presentmentCurrency) },
    };
  }
  const plain = holder[field];
  if (plain === null || plain === undefined) return null;
  return { shopMoney: { amount: String(plain), currencyCode: shopCurrency }, presentmentMoney: { amount: String(plain), currencyCode: presentmentCurrency } };
}

const zero = (shop: string, presentment: string): GqlMoneyBag => ({
  shopMoney: { amount: "0.0", currencyCode: shop },
  presentmentMoney: { amount: "0.0", currencyCode: presentment },
});

function gid(type: string, holder: Json): string {
  return typeof holder.admin_graphql_api_id === "string" ? holder.admin_graphql_api_id : `gid://shopify/${type}/${String(holder.id)}`;
}

function attributes(value: unknown): { key: string; value: string | null }[] {
  return Array.isArray(value)
    ? value.filter((entry) => entry && typeof entry === "object").map((entry) => ({ key: String((entry as Json).name), value: (entry as Json).value === null ? null : String((entry as Json).value) }))
    : [];
}

/**
 * The GraphQL Admin API's view of a REST order (an orders/create payload), field for field, the
 * way Shopify exposes the same order through both APIs. Ids stay exact (`idText` gives the
 * order's id as published, digits intact).
 */
export function graphqlOrderOf(order: Json, idText = String(order.id)): StandinOrder {
  const shopCurrency = String(order.currency);
  const presentment = String(order.presentment_currency ?? shopCurrency);
  const money = (holder: Json, field: string) => bag(holder, field, shopCurrency, presentment);
  const tax = (lines: unknown): GqlTaxLine[] =>
    ((lines as Json[] | undefined) ?? []).map((line) => ({ rate: line.rate === undefined ? null : Number(line.rate), title: (line.title as string) ?? null, priceSet: money(line, "price") ?? zero(shopCurrency, presentment) }));
  const discounts = (list: unknown) =>
    ((list as Json[] | undefined) ?? []).map((allocation) => ({ allocatedAmountSet: money(allocation, "amount") ?? zero(shopCurrency, presentment) }));
  const customer = order.customer as Json | null | undefined;
  const billing = order.billing_address as Json | null | undefined;
  const client = order.client_details as Json | null | undefined;
  const lines: GqlLineItem[] = (order.line_items as Json[]).map((line) => ({
    id: gid("LineItem", line),
    name: (line.name as string) ?? null,
    title: (line.title as string) ?? null,
    sku: (line.sku as string) ?? null,
    quantity: Number(line.quantity),
    isGiftCard: line.gift_card === true,
    originalUnitPriceSet: money(line, "price")!,
    customAttributes: attributes(line.properties),
    sellingPlan: line.selling_plan_id ? { sellingPlanId: `gid://shopify/SellingPlan/${String(line.selling_plan_id)}` } : null,
    taxLines: tax(line.tax_lines),
    discountAllocations: discounts(line.discount_allocations),
  }));
  return {
    id: `gid://shopify/Order/${idText}`,
    legacyResourceId: idText,
    name: (order.name as string) ?? null,
    createdAt: new Date(String(order.created_at)).toISOString(),
    test: order.test === true,
    currencyCode: shopCurrency,
    presentmentCurrencyCode: presentment,
    taxesIncluded: order.taxes_included === true,
    displayFinancialStatus: typeof order.financial_status === "string" ? order.financial_status.toUpperCase() : null,
    cancelledAt: (order.cancelled_at as string) ?? null,
    sourceName: (order.source_name as string) ?? null,
    tags: typeof order.tags === "string" ? order.tags.split(",").map((tag) => tag.trim()).filter(Boolean) : [],
    discountCodes: ((order.discount_codes as Json[] | undefined) ?? []).map((code) => String(code.code)),
    cartToken: (order.cart_token as string) ?? null,
    customAttributes: attributes(order.note_attributes),
    subtotalPriceSet: money(order, "subtotal_price"),
    totalPriceSet: money(order, "total_price"),
    totalTaxSet: money(order, "total_tax"),
    totalDiscountsSet: money(order, "total_discounts"),
    taxLines: tax(order.tax_lines),
    shippingLines: {
      nodes: ((order.shipping_lines as Json[] | undefined) ?? [])
        .filter((line) => line.is_removed !== true)
        .map((line) => ({
          originalPriceSet: money(line, "price") ?? zero(shopCurrency, presentment),
          discountedPriceSet: money(line, "discounted_price") ?? money(line, "price") ?? zero(shopCurrency, presentment),
          taxLines: tax(line.tax_lines),
          discountAllocations: discounts(line.discount_allocations),
        })),
    },
    lineItems: { nodes: lines, pageInfo: { hasNextPage: false, endCursor: null } },
    email: ((order.email as string) || (order.contact_email as string)) ?? null,
    clientIp: ((order.browser_ip as string) ?? (client?.browser_ip as string)) ?? null,
    customer: customer ? { id: gid("Customer", customer), firstName: (customer.first_name as string) ?? null, lastName: (customer.last_name as string) ?? null, email: (customer.email as string) ?? null } : null,
    billingAddress: billing ? { firstName: (billing.first_name as string) ?? null, lastName: (billing.last_name as string) ?? null } : null,
    refunds: ((order.refunds as Json[] | undefined) ?? []).map((refund) => ({
      id: gid("Refund", refund),
      legacyResourceId: String(refund.id),
      totalRefundedSet: {
        shopMoney: { amount: String(((refund.transactions as Json[] | undefined) ?? []).reduce((sum, t) => sum + Number(t.amount ?? 0), 0)), currencyCode: shopCurrency },
        presentmentMoney: { amount: "0", currencyCode: presentment },
      },
      refundLineItems: {
        nodes: ((refund.refund_line_items as Json[] | undefined) ?? []).map((entry) => {
          const line = entry.line_item as Json;
          return { quantity: Number(entry.quantity), lineItem: { id: gid("LineItem", line), sku: (line.sku as string) ?? null, name: (line.name as string) ?? null, title: (line.title as string) ?? null } };
        }),
      },
    })),
  };
}
