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
export const MAPPED_NOTE_ATTRIBUTES: ReadonlySet<string> = new Set([STOREFRONT_CART_ATTRIBUTE, STOREFRONT_AFFILIATE_ATTRIBUTE, SKIO_ID_ATTRIBUTE, SKIO_PROVIDER_ATTRIBUTE]);
export const MAPPED_LINE_PROPERTIES: ReadonlySet<string> = new Set([RECHARGE_SUBSCRIPTION_ID_PROPERTY, ...RECHARGE_LINE_PROPERTIES]);

// ---------------------------------------------------------------------------------------------
// Identifiers and attributes

/**
 * The cart token without its `?key=` part; else the cart id our storefront script stored in the
 * `_rfsn_cart` note attribute; else an unguessable id derived from the shop and order id.
 */
export function cartIdFor(order: ShopifyOrder, orderId: string, options: MappingOptions): string {
  const identifiers = new Set([orderId, textOf(order.order_number), textOf(order.name)].filter((value): value is string => Boolean(value)));
  const usable = (value: unknown): string | null => {
    const text = typeof value === "string" ? value.split("?")[0].trim() : "";
    return text && text.length <= CART_ID_MAX_LENGTH && !identifiers.has(text) ? text : null;
  };
  const fromToken = usable(order.cart_token);
  if (fromToken) return fromToken;
  const fromAttribute = usable(noteAttributesOf(order).get(STOREFRONT_CART_ATTRIBUTE));
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

interface SubscriptionFacts {
  isSubscription: boolean;
  id: string | null;
}

/**
 * Subscription orders: Shopify subscription contracts (source_name), Recharge (tags, line
 * properties of subscribed lines), Skio (note attributes), Appstle and Seal (tags). The id is only ever one the
 * subscription app wrote; none is made up.
 */
export function subscriptionOf(order: ShopifyOrder): SubscriptionFacts {
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
