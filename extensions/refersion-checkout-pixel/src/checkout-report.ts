/**
 * What the pixel sends, and the checks on everything it reads before sending it
 * (docs/web-pixel.md, "The report"). No Web Pixels API here, so it can be tested on its own.
 */

/** The body of the text/plain POST the app's report endpoint receives (JSON). */
export interface CheckoutReport {
  /** The shop's myshopify.com domain, from the pixel's init data. */
  shop: string;
  /** The order's numeric id, digits only. */
  orderId: string;
  /** The checkout's token, or null when the event has none. */
  checkoutToken: string | null;
  /** Refersion's click record from the shop's localStorage: rfsn_v4_id, rfsn_v4_aid, rfsn_v4_cs. */
  click: { id: string; affiliateId: string; cs: string };
}

/** localStorage keys of Refersion's click record, in the order of CheckoutReport["click"]. */
export const CLICK_KEYS = ["rfsn_v4_id", "rfsn_v4_aid", "rfsn_v4_cs"] as const;

// Bounds on what another script's storage and the event may hold: anything else is not sent.
const CLICK_ID = /^[\w.:-]{1,128}$/;
const AFFILIATE_ID = /^[1-9]\d{0,14}$/;
const CHECKSUM = /^[\w.-]{1,64}$/;
const CHECKOUT_TOKEN = /^[\x21-\x7e]{1,256}$/;
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/;
const ORDER_ID = /^(?:gid:\/\/shopify\/OrderIdentity\/)?([1-9]\d{0,19})$/;

const matching = (value: unknown, pattern: RegExp): string | null => {
  const trimmed = typeof value === "string" ? value.trim() : null;
  return trimmed !== null && pattern.test(trimmed) ? trimmed : null;
};

/** Digits of an order id given as a number or as "<n>" or "gid://shopify/OrderIdentity/<n>". */
export function orderIdOf(value: unknown): string | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  return matching(value, ORDER_ID)?.replace(ORDER_ID, "$1") ?? null;
}

export const checkoutTokenOf = (value: unknown) => matching(value, CHECKOUT_TOKEN);

export const shopOf = (value: unknown) => matching(value, SHOP_DOMAIN);

/** The three values read for CLICK_KEYS, or null unless all three are usable. */
export function clickOf([id, affiliateId, cs]: unknown[]): CheckoutReport["click"] | null {
  const click = { id: matching(id, CLICK_ID), affiliateId: matching(affiliateId, AFFILIATE_ID), cs: matching(cs, CHECKSUM) };
  return click.id && click.affiliateId && click.cs ? { id: click.id, affiliateId: click.affiliateId, cs: click.cs } : null;
}

/** https anywhere; plain http only to this machine (local development); no user info. */
export function reportUrlOf(value: unknown): string | null {
  try {
    const url = new URL(String(value).trim());
    const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
    if (!(url.protocol === "https:" || (url.protocol === "http:" && local)) || url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}
