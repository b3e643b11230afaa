import { MAPPED_LINE_PROPERTIES, MAPPED_NOTE_ATTRIBUTES } from "../refersion/mapping";
/**
 * What counts as a buyer's personal data in what we store, and how it is removed while the
 * amounts, ids and line items the delivery log needs stay.
 */

/** Top-level fields of a Shopify order that identify or locate the buyer. */
const ORDER_PERSONAL_FIELDS = [
  "email",
  "contact_email",
  "phone",
  "billing_address",
  "shipping_address",
  "browser_ip",
  "client_details",
  "note",
  "landing_site",
  "landing_site_ref",
  "referring_site",
  "order_status_url",
  "customer_locale",
  "payment_details",
] as const;

export const REMOVED = "[removed]";

type Json = Record<string, unknown>;

/**
 * `[{name, value}]` lists (and plain `{name: value}` objects, which the mapping also reads) with
 * every value not kept replaced by REMOVED; the names stay, they are the merchant's or an app's.
 */
function removeValuesFromPairs(pairs: unknown, keep: (name: string) => boolean): unknown {
  if (Array.isArray(pairs)) {
    return pairs.map((entry) => {
      if (!entry || typeof entry !== "object") return entry;
      const record = entry as Json;
      const name = record.name ?? record.key;
      if (typeof name === "string" && keep(name)) return record;
      return "value" in record ? { ...record, value: REMOVED } : record;
    });
  }
  if (pairs && typeof pairs === "object") {
    return Object.fromEntries(Object.entries(pairs as Json).map(([name, value]) => [name, keep(name) ? value : REMOVED]));
  }
  return pairs;
}

// Only what the mapping reads survives (the storefront's cart id and affiliate id); every other
// value (gift messages, engravings, names) goes.
const keptNoteAttribute = (name: string) => MAPPED_NOTE_ATTRIBUTES.has(name);
const keptLineProperty = (name: string) => MAPPED_LINE_PROPERTIES.has(name);

function withoutPropertyValues(line: unknown): unknown {
  if (!line || typeof line !== "object" || !("properties" in (line as Json))) return line;
  return { ...(line as Json), properties: removeValuesFromPairs((line as Json).properties, keptLineProperty) };
}

/** The order without personal data; the customer keeps only its id. Amounts, items and ids stay. */
export function removePersonalDataFromOrder(order: unknown): unknown {
  if (!order || typeof order !== "object" || Array.isArray(order)) return order;
  const copy: Json = { ...(order as Json) };
  for (const field of ORDER_PERSONAL_FIELDS) if (field in copy) copy[field] = null;
  if (copy.customer && typeof copy.customer === "object") {
    const id = (copy.customer as Json).id;
    copy.customer = id === undefined ? null : { id };
  }
  if ("note_attributes" in copy) copy.note_attributes = removeValuesFromPairs(copy.note_attributes, keptNoteAttribute);
  if (Array.isArray(copy.line_items)) copy.line_items = copy.line_items.map(withoutPropertyValues);
  if (Array.isArray(copy.fulfillments)) {
    copy.fulfillments = copy.fulfillments.map((f) => (f && typeof f === "object" ? { ...(f as Json), destination: null } : f));
  }
  if (Array.isArray(copy.shipping_lines)) {
    copy.shipping_lines = copy.shipping_lines.map((line) => (line && typeof line === "object" ? { ...(line as Json), phone: null } : line));
  }
  return copy;
}

/** The Refersion JSON without its customer block (amounts, items and ids unchanged). */
/**
 * A new payload for an order whose buyer's personal data was already removed (customers/redact,
 * or retention): it is removed from the new payload too, before anything is mapped or stored,
 * so a late orders/paid or a resend cannot bring it back.
 */
export function keepPersonalDataRemoved(order: unknown, personalDataRemovedAt: Date | null): unknown {
  return personalDataRemovedAt ? removePersonalDataFromOrder(order) : order;
}

export function removePersonalDataFromConversion(conversion: unknown): unknown {
  if (!conversion || typeof conversion !== "object" || Array.isArray(conversion)) return conversion;
  const { customer: _customer, ...rest } = conversion as Json;
  return rest;
}

/** Address fields that name or locate the buyer. */
const ADDRESS_PERSONAL_FIELDS = ["name", "first_name", "last_name", "company", "address1", "address2", "city", "zip", "phone"] as const;

/** The personal values (names, email, phone, address, IP) a stored payload holds, to find them in excerpts. */
export function personalValuesIn(order: unknown, conversion: unknown): string[] {
  const values = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string" && value.trim().length >= 3) values.add(value.trim());
  };
  const addAddress = (address: unknown) => {
    if (address && typeof address === "object") for (const field of ADDRESS_PERSONAL_FIELDS) add((address as Json)[field]);
  };
  const customer = (conversion as { customer?: Json } | null)?.customer;
  if (customer && typeof customer === "object") Object.values(customer).forEach(add);
  const o = order as Json | null;
  if (o && typeof o === "object") {
    add(o.email);
    add(o.contact_email);
    add(o.phone);
    add(o.browser_ip);
    add((o.client_details as Json | null)?.browser_ip);
    const c = o.customer as Json | null;
    if (c && typeof c === "object") {
      [c.email, c.first_name, c.last_name, c.phone].forEach(add);
      addAddress(c.default_address);
    }
    addAddress(o.billing_address);
    addAddress(o.shipping_address);
  }
  return [...values];
}

/** A value as it appears inside a JSON string, also with non-ASCII written as \uXXXX (any hex case matches). */
function jsonEscapedForms(value: string): string[] {
  const escaped = JSON.stringify(value).slice(1, -1);
  return [escaped, escaped.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replaces every occurrence of the values in a stored excerpt: in any letter case, and in the
 * forms an answer may quote them in (JSON-escaped, \u-escaped, URL-encoded).
 */
export function removeValuesFromText(text: string | null, values: string[]): string | null {
  if (!text || values.length === 0) return text;
  const forms = new Set<string>();
  for (const value of values) {
    forms.add(value);
    for (const form of jsonEscapedForms(value)) forms.add(form);
    forms.add(encodeURIComponent(value));
  }
  // Longest first, so that a value is not half replaced through a shorter one inside it.
  const pattern = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|");
  return text.replace(new RegExp(pattern, "giu"), REMOVED);
}

export function parseJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
