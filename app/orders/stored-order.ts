import { MAPPED_LINE_PROPERTIES, MAPPED_NOTE_ATTRIBUTES } from "../refersion/mapping";
import { textOf } from "../refersion/shopify-order";

/**
 * What of a Shopify order the outbox keeps (`Delivery.orderPayload`): only the fields the
 * mapping (app/refersion/, see shopify-order.ts), the payment and resend rules (payment-status.ts)
 * and the reversals (line item ids and positions) read, so that an order waiting for keys or
 * payment, or retried, maps as it would have from the whole payload. Everything else Shopify sends
 * (shipping address, phone, notes, fulfilments, the buyer's browser details but the IP) is dropped
 * before the row is written. The personal values kept are sealed at rest by the database layer
 * (app/database/sealed-columns.server.ts). `test/privacy/stored-order.property.test.ts` checks
 * that the mapping's output is unchanged.
 */
const ORDER_FIELDS = [
  "id",
  "admin_graphql_api_id",
  "name",
  "order_number",
  "currency",
  "presentment_currency",
  "taxes_included",
  "test",
  "financial_status",
  "cancelled_at",
  "created_at",
  "processed_at",
  "subtotal_price",
  "subtotal_price_set",
  "total_price",
  "total_price_set",
  "total_tax",
  "total_tax_set",
  "total_discounts",
  "total_discounts_set",
  "tax_lines",
  "line_items",
  "shipping_lines",
  "discount_codes",
  "cart_token",
  // Compared (hashed) with the checkout pixel's report for the order (app/attribution/click-report.ts).
  "checkout_token",
  "note_attributes",
  "source_name",
  "tags",
  // The buyer, for Refersion's customer block (name, email, IP) and the customer id.
  "customer",
  "billing_address",
  "email",
  "contact_email",
  "browser_ip",
  "client_details",
] as const;

const LINE_FIELDS = [
  "id",
  "admin_graphql_api_id",
  "product_id",
  "variant_id",
  "quantity",
  "price",
  "price_set",
  "sku",
  "name",
  "title",
  "variant_title",
  "gift_card",
  "tax_lines",
  "discount_allocations",
  "total_discount",
  "total_discount_set",
  "properties",
  "selling_plan_allocation",
  "tip_payment_gateway",
  "tip_payment_method",
] as const;

const SHIPPING_LINE_FIELDS = [
  "id",
  "price",
  "price_set",
  "discounted_price",
  "discounted_price_set",
  "tax_lines",
  "discount_allocations",
  "is_removed",
] as const;

const CUSTOMER_FIELDS = ["id", "admin_graphql_api_id", "email", "first_name", "last_name"] as const;
const BILLING_FIELDS = ["first_name", "last_name"] as const;
const CLIENT_FIELDS = ["browser_ip"] as const;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return Boolean(value) && typeof value === "object" && !Array.isArray(value);
}

function pick(record: Json, fields: readonly string[]): Json {
  const kept: Json = {};
  for (const field of fields) if (field in record) kept[field] = record[field];
  return kept;
}

function pickEach(list: unknown, fields: readonly string[]): unknown {
  return Array.isArray(list) ? list.map((entry) => (isRecord(entry) ? pick(entry, fields) : entry)) : list;
}

function pickOne(value: unknown, fields: readonly string[]): unknown {
  return isRecord(value) ? pick(value, fields) : value;
}

/**
 * `[{name, value}]` lists (or `{name: value}` objects) with only the entries the mapping reads:
 * a gift message or an engraving is the buyer's, and nothing reads it.
 */
function keepNamed(pairs: unknown, kept: ReadonlySet<string>): unknown {
  if (Array.isArray(pairs)) {
    return pairs.filter((entry) => {
      if (!isRecord(entry)) return false;
      const name = textOf(entry.name ?? entry.key);
      return name !== null && kept.has(name);
    });
  }
  if (isRecord(pairs)) return Object.fromEntries(Object.entries(pairs).filter(([name]) => kept.has(textOf(name) ?? "")));
  return pairs;
}

/** The order as the outbox stores it; anything that is not an order object is kept as it is. */
export function minimiseOrder(order: unknown): unknown {
  if (!isRecord(order)) return order;
  const kept = pick(order, ORDER_FIELDS);
  if (Array.isArray(kept.line_items)) {
    kept.line_items = (pickEach(kept.line_items, LINE_FIELDS) as unknown[]).map((line) =>
      isRecord(line) && "properties" in line ? { ...line, properties: keepNamed(line.properties, MAPPED_LINE_PROPERTIES) } : line,
    );
  }
  if ("shipping_lines" in kept) kept.shipping_lines = pickEach(kept.shipping_lines, SHIPPING_LINE_FIELDS);
  if ("note_attributes" in kept) kept.note_attributes = keepNamed(kept.note_attributes, MAPPED_NOTE_ATTRIBUTES);
  if ("customer" in kept) kept.customer = pickOne(kept.customer, CUSTOMER_FIELDS);
  if ("billing_address" in kept) kept.billing_address = pickOne(kept.billing_address, BILLING_FIELDS);
  if ("client_details" in kept) kept.client_details = pickOne(kept.client_details, CLIENT_FIELDS);
  return kept;
}

/** The JSON text stored in `Delivery.orderPayload`. */
export function storedOrderJson(order: unknown): string | null {
  return JSON.stringify(minimiseOrder(order)) ?? null;
}
