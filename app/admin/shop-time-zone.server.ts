import { DEFAULT_TIME_ZONE, isTimeZone } from "./format";
import { logger } from "../logger.server";
import { adminGraphqlData, type AdminGraphql } from "../storefront/admin-graphql.server";

/**
 * The shop's time zone, as set in Shopify's settings (`shop { ianaTimezone }`), in which the
 * admin shows every time and counts days. Asked once per shop and kept for an hour in this
 * process: merchants rarely change it, and the admin's pages need it on every load.
 */
const CACHE_MS = 60 * 60 * 1000;
const cache = new Map<string, { timeZone: string; until: number }>();

const SHOP_TIME_ZONE_QUERY = `#graphql
  query { shop { ianaTimezone } }`;

export async function shopTimeZone(shop: string, graphql: AdminGraphql, now = Date.now()): Promise<string> {
  const cached = cache.get(shop);
  if (cached && cached.until > now) return cached.timeZone;
  try {
    const data = await adminGraphqlData<{ shop: { ianaTimezone: string | null } }>(graphql, SHOP_TIME_ZONE_QUERY);
    const name = data.shop.ianaTimezone;
    const timeZone = name && isTimeZone(name) ? name : DEFAULT_TIME_ZONE;
    cache.set(shop, { timeZone, until: now + CACHE_MS });
    return timeZone;
  } catch (error) {
    // A 401 must reach the library so it re-authenticates; anything else costs the page only its
    // time zone, for this load (not cached: the next load asks again).
    if (error instanceof Response) throw error;
    logger.warn("shop time zone unavailable", { shop, error: error instanceof Error ? error.message : String(error) });
    return cached?.timeZone ?? DEFAULT_TIME_ZONE;
  }
}

/** Forgets the cached zones (tests; a shop's uninstall keeps nothing meaningful here). */
export function forgetShopTimeZones(): void {
  cache.clear();
}
