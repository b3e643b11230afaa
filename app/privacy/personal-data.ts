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

/** The order without personal data; the customer keeps only its id. */
export function removePersonalDataFromOrder(order: unknown): unknown {
  if (!order || typeof order !== "object" || Array.isArray(order)) return order;
  const copy: Json = { ...(order as Json) };
  for (const field of ORDER_PERSONAL_FIELDS) if (field in copy) copy[field] = null;
  if (copy.customer && typeof copy.customer === "object") {
    const id = (copy.customer as Json).id;
    copy.customer = id === undefined ? null : { id };
  }
  if (Array.isArray(copy.fulfillments)) {
    copy.fulfillments = copy.fulfillments.map((f) => (f && typeof f === "object" ? { ...(f as Json), destination: null } : f));
  }
  if (Array.isArray(copy.shipping_lines)) {
    copy.shipping_lines = copy.shipping_lines.map((line) => (line && typeof line === "object" ? { ...(line as Json), phone: null } : line));
  }
  return copy;
}

/** The Refersion JSON without its customer block (amounts, items and ids unchanged). */
export function removePersonalDataFromConversion(conversion: unknown): unknown {
  if (!conversion || typeof conversion !== "object" || Array.isArray(conversion)) return conversion;
  const { customer: _customer, ...rest } = conversion as Json;
  return rest;
}

/** The personal values (names, email, IP) a stored payload holds, to find them in excerpts. */
export function personalValuesIn(order: unknown, conversion: unknown): string[] {
  const values = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string" && value.trim().length >= 3) values.add(value.trim());
  };
  const customer = (conversion as { customer?: Json } | null)?.customer;
  if (customer) Object.values(customer).forEach(add);
  const o = order as Json | null;
  if (o && typeof o === "object") {
    add(o.email);
    add(o.contact_email);
    add(o.phone);
    add(o.browser_ip);
    const c = o.customer as Json | null;
    if (c && typeof c === "object") [c.email, c.first_name, c.last_name, c.phone].forEach(add);
    for (const key of ["billing_address", "shipping_address"]) {
      const address = o[key] as Json | null;
      if (address && typeof address === "object") [address.name, address.first_name, address.last_name, address.address1, address.phone].forEach(add);
    }
  }
  return [...values];
}

export function removeValuesFromText(text: string | null, values: string[]): string | null {
  if (!text) return text;
  let out = text;
  for (const value of values) out = out.split(value).join(REMOVED);
  return out;
}

export function parseJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
