import { logger } from "../logger.server";
import { offlineAccess } from "../shopify.server";
import { OfflineAccessError, type OfflineAccess } from "../shops/offline-access.server";
import { isOfflineAccessProblem } from "../shops/offline-access-problem.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { createOrderReader, ShopifyReadError, type OrderReader } from "./shopify-orders.server";

/**
 * What a reader reports when the shop's token could not be had: a problem only the merchant can
 * fix stops the job, says how and names the problem (the admin's home page tells the merchant
 * the job stopped); Shopify being unreachable, or refusing the app's own credentials, pauses it
 * (it goes on by itself once Shopify answers or the operator corrected them).
 */
function asReadError(error: unknown): unknown {
  if (!(error instanceof OfflineAccessError)) return error;
  if (!isOfflineAccessProblem(error.failure)) return new ShopifyReadError(error.message, true);
  return new ShopifyReadError(
    `${error.message} Open the app from the shop's Shopify admin to renew it (or install it again), then start again.`,
    false,
    error.failure,
  );
}

/**
 * The order reader for a shop, through the Admin API with the shop's offline token
 * (app/shops/offline-access.server.ts: renewed before it expires, also during a long read).
 * `access` is the app's own unless a test gives another (e.g. with other credentials).
 */
export async function adminOrderReaderFor(shop: string, options: { personalData: boolean }, access: OfflineAccess = offlineAccess): Promise<OrderReader> {
  // Known before the first read: a shop whose access needs the merchant fails at once.
  await access.sessionFor(shop).catch((error: unknown) => {
    throw asReadError(error);
  });
  const shopGraphql = access.graphqlFor(shop);
  const graphql: AdminGraphql = (query, graphqlOptions) =>
    shopGraphql(query, graphqlOptions).catch((error: unknown) => {
      throw asReadError(error);
    });
  return createOrderReader({ graphql, personalData: options.personalData, logger: logger.child({ shop }) });
}
