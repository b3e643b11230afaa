import { SessionNotFoundError } from "@shopify/shopify-app-remix/server";
import { logger } from "../logger.server";
import { unauthenticated } from "../shopify.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { createOrderReader, ShopifyReadError, type OrderReader } from "./shopify-orders.server";

/**
 * The order reader for a shop, through the Admin API client that the Shopify library builds
 * from the shop's stored offline session (saved at installation). Without one the app cannot
 * read the shop's orders: that is reported, not retried.
 */
export async function adminOrderReaderFor(shop: string, options: { personalData: boolean }): Promise<OrderReader> {
  let graphql: AdminGraphql;
  try {
    const { admin } = await unauthenticated.admin(shop);
    graphql = admin.graphql as AdminGraphql;
  } catch (error) {
    if (error instanceof SessionNotFoundError) {
      throw new ShopifyReadError(`The app has no access token for ${shop}: open the app from the shop's admin (or install it again), then start again`, false);
    }
    throw error;
  }
  return createOrderReader({ graphql, personalData: options.personalData, logger: logger.child({ shop }) });
}
