import "@shopify/shopify-app-remix/adapters/node";
import {
  ApiVersion,
  AppDistribution,
  shopifyApp,
} from "@shopify/shopify-app-remix/server";
import { LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import prisma from "./db.server";
import { markShopInstalled } from "./shops/uninstall.server";
import { env } from "./env.server";

/** The API version of the webhooks declared in shopify.app.toml and of every Admin API call. */
export const SHOPIFY_API_VERSION = ApiVersion.October26;

const config = env();

/** The app's identity, shared by `shopify` and the webhook validator below so they cannot drift. */
const appCredentials = {
  apiKey: config.SHOPIFY_API_KEY,
  apiSecretKey: config.SHOPIFY_API_SECRET,
  apiVersion: SHOPIFY_API_VERSION,
  scopes: config.SCOPES,
};

const shopify = shopifyApp({
  ...appCredentials,
  appUrl: config.SHOPIFY_APP_URL,
  authPathPrefix: "/auth",
  sessionStorage: new PrismaSessionStorage(prisma),
  distribution: AppDistribution.AppStore,
  hooks: {
    afterAuth: async ({ session }) => {
      await markShopInstalled(session.shop);
    },
  },
  future: {
    unstable_newEmbeddedAuthStrategy: true,
  },
});

/**
 * Shopify's webhook checks (HMAC of the raw body, required headers, shop domain) from the same
 * library and configuration as `shopify`, without what `authenticate.webhook` adds: a session
 * read (and possibly a token refresh over the network) and an Admin API client. No webhook of
 * this app uses either, and orders/create is acknowledged on the hot path of every sale
 * (docs/performance.md).
 */
const appUrl = new URL(config.SHOPIFY_APP_URL);
const webhookApi = shopifyApi({
  ...appCredentials,
  hostName: appUrl.host,
  hostScheme: appUrl.protocol === "http:" ? "http" : "https",
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error },
});
export const validateWebhook = webhookApi.webhooks.validate;
export const sanitizeShop = webhookApi.utils.sanitizeShop;

export default shopify;
export const apiVersion = SHOPIFY_API_VERSION;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;
