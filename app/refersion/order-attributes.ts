import { createHmac } from "node:crypto";
import { isIP } from "node:net";
import { MappingError, type MappingOptions, type RefersionCustomer } from "./conversion";
import { CART_ID_MAX_LENGTH } from "./order-json";
import { textOf, type ShopifyOrder } from "./shopify-order";

/**
 * What the order says besides its amounts: the cart id Refersion matches the visit by, coupon
 * codes, subscription markers, the storefront's affiliate id and the customer. Pure; only a
 * missing secret for a derived cart id is an error. The rules are in docs/mapping.md.
 */

/** Prefix of the cart id derived for orders that carry no cart token and no storefront attribute. */
export const DERIVED_CART_ID_PREFIX = "ord-";

/** Note attributes our storefront script writes to the cart (extensions/refersion-tracking): its cart id, the affiliate id. */
const STOREFRONT_CART_ATTRIBUTE = "_rfsn_cart";
const STOREFRONT_AFFILIATE_ATTRIBUTE = "_rfsn_aid";

/** Source names Shopify gives orders that a subscription contract created (renewals, billing attempts). */
const SUBSCRIPTION_CONTRACT_SOURCES = new Set(["subscription_contract", "subscription_contract_checkout_one"]);

/**
 * Order tags subscription apps add (compared case-insensitively). Tags are written by the shop's
 * staff and apps through the Admin API, never by the buyer's cart.
 */
const SUBSCRIPTION_TAGS = new Set([
  // Recharge
  "subscription first order",
  "subscription recurring order",
  // Appstle
  "appstle_subscription_first_order",
  "appstle_subscription_recurring_order",
]);

/**
 * What the mapping reads from note attributes and line item properties, none of it naming a
 * buyer: removing personal data keeps exactly these (app/privacy/personal-data.ts), so a redacted
 * order still maps to the same cart id and affiliate. Subscription markers are not read from
 * either: any shopper can write both through the cart API.
 */
export const MAPPED_NOTE_ATTRIBUTES: ReadonlySet<string> = new Set([STOREFRONT_CART_ATTRIBUTE, STOREFRONT_AFFILIATE_ATTRIBUTE]);
export const MAPPED_LINE_PROPERTIES: ReadonlySet<string> = new Set<string>();

// ---------------------------------------------------------------------------------------------
// Identifiers and attributes

/** How the order itself names the cart Refersion matched the visit by (the storefront embed reported it). */
export type StorefrontCartSource = "cart_token" | "cart_attribute";

/**
 * The cart token without its `?key=` part; else the cart id our storefront script stored in the
 * `_rfsn_cart` note attribute; null when the order has neither (Buy it now, express buttons, draft
 * and API orders), or only one that repeats the order's id, number or name.
 */
export function storefrontCartOf(order: ShopifyOrder, orderId: string): { cartId: string; source: StorefrontCartSource } | null {
  const identifiers = new Set([orderId, textOf(order.order_number), textOf(order.name)].filter((value): value is string => Boolean(value)));
  const usable = (value: unknown): string | null => {
    const text = typeof value === "string" ? value.split("?")[0].trim() : "";
    return text && text.length <= CART_ID_MAX_LENGTH && !identifiers.has(text) ? text : null;
  };
  const fromToken = usable(order.cart_token);
  if (fromToken) return { cartId: fromToken, source: "cart_token" };
  const fromAttribute = usable(noteAttributesOf(order).get(STOREFRONT_CART_ATTRIBUTE));
  if (fromAttribute) return { cartId: fromAttribute, source: "cart_attribute" };
  return null;
}

/** HMAC-SHA256 of "shop:orderId" with the app's secret: stable per order, unguessable without the secret. */
export function derivedCartId(options: Pick<MappingOptions, "shop" | "cartIdSecret">, orderId: string): string {
  if (typeof options.cartIdSecret !== "string" || options.cartIdSecret.length === 0) {
    throw new MappingError("invalid_options", "The order has no cart token and the app has no secret to derive a cart id with");
  }
  const digest = createHmac("sha256", options.cartIdSecret).update(`${options.shop}:${orderId}`).digest("hex");
  return `${DERIVED_CART_ID_PREFIX}${digest.slice(0, 40)}`;
}

export function discountCodesOf(order: ShopifyOrder): string | null {
  const codes: string[] = [];
  for (const entry of order.discount_codes ?? []) {
    const code = textOf(entry.code);
    if (code && !codes.includes(code)) codes.push(code);
  }
  return codes.length > 0 ? codes.join(",") : null;
}

export function affiliateIdOf(order: ShopifyOrder): number | null {
  const value = noteAttributesOf(order).get(STOREFRONT_AFFILIATE_ATTRIBUTE)?.trim() ?? "";
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

/**
 * Subscription orders, from what the buyer cannot write: a line bought with a selling plan
 * (`selling_plan_allocation`, set by Shopify's checkout), an order a subscription contract created
 * (`source_name`), or a subscription app's order tags (Recharge, Appstle, Seal). Note attributes
 * and line item properties are not read: any shopper can set them through the cart API. No
 * subscription id is sent: every one an order carries (Skio's note attribute, Recharge's line
 * property) is writable by the buyer too.
 */
export function isSubscriptionOrder(order: ShopifyOrder): boolean {
  const tags = tagsOf(order);
  return (
    order.line_items.some((line) => hasSellingPlan(line.selling_plan_allocation)) ||
    SUBSCRIPTION_CONTRACT_SOURCES.has(typeof order.source_name === "string" ? order.source_name.trim() : "") ||
    tags.some((tag) => SUBSCRIPTION_TAGS.has(tag) || tag.startsWith("seal subscription") || tag.startsWith("seal_subscription"))
  );
}

/** A selling plan allocation as Shopify's checkout writes it: an object naming its selling plan. */
function hasSellingPlan(allocation: unknown): boolean {
  const plan = recordOf(allocation)?.selling_plan;
  return recordOf(plan) !== null;
}

// ---------------------------------------------------------------------------------------------
// Customer

export function customerOf(order: ShopifyOrder): RefersionCustomer | null {
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

export function customerIdOf(value: unknown): string | null {
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
