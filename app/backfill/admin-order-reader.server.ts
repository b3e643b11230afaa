import { logger } from "../logger.server";
import { offlineAccess } from "../shopify.server";
import { OfflineAccessError } from "../shops/offline-access.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { createOrderReader, ShopifyReadError, type OrderReader } from "./shopify-orders.server";

/**
 * What a reader reports when the shop's token could not be had: a problem only the merchant can
 * fix stops the job and says how; Shopify being unreachable pauses it (it goes on by itself).
 */
function asReadError(error: unknown): unknown {
  if (!(error instanceof OfflineAccessError)) return error;
  if (!error.needsMerchant) return new ShopifyReadError(error.message, true);
  return new ShopifyReadError(`${error.message} Open the app from the shop's Shopify admin to renew it (or install it again), then start again.`, false);
}

/**
 * The order reader for a shop, through the Admin API with the shop's offline token
 * (app/shops/offline-access.server.ts: renewed before it expires, also during a long read).
 */
export async function adminOrderReaderFor(shop: string, options: { personalData: boolean }): Promise<OrderReader> {
  // Known before the first read: a shop whose access needs the merchant fails at once.
  await offlineAccess.sessionFor(shop).catch((error: unknown) => {
    throw asReadError(error);
  });
  const shopGraphql = offlineAccess.graphqlFor(shop);
  const graphql: AdminGraphql = (query, graphqlOptions) =>
    shopGraphql(query, graphqlOptions).catch((error: unknown) => {
      throw asReadError(error);
    });
  return createOrderReader({ graphql, personalData: options.personalData, logger: logger.child({ shop }) });
}
