import { startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { startShopifyAdminStandin, type ShopifyAdminStandin, type StandinShop } from "../../scripts/shopify-admin-standin";
import { accessTokenFor, storeOfflineSession } from "./admin-session";
import { IDLE_WORKER, startProductionApp, type ProductionApp } from "./production-app";
import { TEST_ENV } from "./test-env";

export interface AdminHarness {
  shopify: ShopifyAdminStandin;
  refersion: RefersionSandbox;
  /** Installs the app for a shop: an expiring offline session here, the same token and refresh token at the stand-in. */
  install(shop: string, fixture?: Partial<StandinShop>): Promise<void>;
  /** The production build on this test file's database, its worker idle, talking to these stand-ins. */
  startApp(): Promise<ProductionApp>;
  close(): Promise<void>;
}

/**
 * The network boundary of the admin pages, on 127.0.0.1: Shopify's Admin API and Refersion.
 * Call it before importing any app module: it points the app's environment at the stand-ins
 * (env() is parsed once per test file) and reroutes fetch for *.myshopify.com before Shopify's
 * library captures fetch.
 */
export async function startAdminHarness(): Promise<AdminHarness> {
  const shopify = await startShopifyAdminStandin({ appEnv: TEST_ENV });
  const refersion = await startRefersionSandbox();
  process.env.SHOPIFY_ADMIN_STANDIN_URL = shopify.url;
  process.env.REFERSION_API_URL = refersion.apiUrl;
  process.env.REFERSION_WEBHOOK_URL = refersion.webhookUrl;
  process.env.REFERSION_TIMEOUT_MS = "3000";
  await import("../../scripts/shopify-admin-fetch-preload.mjs");
  return {
    shopify,
    refersion,
    async install(shop, fixture = {}) {
      shopify.setShop(shop, { accessToken: accessTokenFor(shop), ...fixture });
      shopify.tokens.set(shop, await storeOfflineSession(shop, { accessToken: fixture.accessToken }));
    },
    startApp: () =>
      startProductionApp(
        {
          DATABASE_URL: process.env.DATABASE_URL!,
          ...IDLE_WORKER,
          REFERSION_API_URL: refersion.apiUrl,
          REFERSION_WEBHOOK_URL: refersion.webhookUrl,
          REFERSION_TIMEOUT_MS: "3000",
          LOG_LEVEL: "warn",
        },
        { shopifyAdminStandinUrl: shopify.url },
      ),
    async close() {
      await Promise.all([shopify.close(), refersion.close()]);
    },
  };
}
