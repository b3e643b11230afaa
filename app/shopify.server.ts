import "@shopify/shopify-app-remix/adapters/node";
import {
  ApiVersion,
  AppDistribution,
  shopifyApp,
} from "@shopify/shopify-app-remix/server";
import { LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import prisma from "./db.server";
import { SealedSessionStorage } from "./shops/sealed-session-storage.server";
import { markShopInstalled } from "./shops/uninstall.server";
import { syncCheckoutPixel } from "./attribution/web-pixel.server";
import { getShopSettings } from "./settings/shop-settings.server";
import { clearOfflineAccessProblem } from "./shops/offline-access-problem.server";
import { createOfflineAccess } from "./shops/offline-access.server";
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

const AUTH_PATH_PREFIX = "/auth";

const shopify = shopifyApp({
  ...appCredentials,
  appUrl: config.SHOPIFY_APP_URL,
  authPathPrefix: AUTH_PATH_PREFIX,
  sessionStorage: new SealedSessionStorage(new PrismaSessionStorage(prisma)),
  distribution: AppDistribution.AppStore,
  hooks: {
    // After every token exchange (an install, or the merchant opening the app once the token
    // expired): a fresh offline token is stored.
    afterAuth: async ({ session }) => {
      await markShopInstalled(session.shop);
      await clearOfflineAccessProblem(session.shop);
      // Shopify runs the checkout pixel only once the app has created it for the shop. Its
      // outcome is recorded for the setup checklist; it never fails the install.
      const { forwardingEnabled } = await getShopSettings(session.shop);
      await syncCheckoutPixel(session.shop, offlineAccess.graphqlFor(session.shop), forwardingEnabled).catch(() => null);
    },
  },
  future: {
    unstable_newEmbeddedAuthStrategy: true,
    // Offline tokens that expire after an hour, with a refresh token: required of public apps
    // from 1 January 2027. Offline uses go through `offlineAccess` below
    // (docs/decisions/0005-expiring-offline-tokens.md).
    expiringOfflineAccessTokens: true,
  },
});

/**
 * Shopify's API library with the same configuration as `shopify` (which does not expose its own).
 * It gives the webhook checks (HMAC of the raw body, required headers, shop domain) without what
 * `authenticate.webhook` adds: a session read (and possibly a token refresh over the network) and
 * an Admin API client. No webhook of this app uses either, and orders/create is acknowledged on
 * the hot path of every sale (docs/performance.md). It also refreshes and converts offline tokens
 * and makes the offline Admin API client (`offlineAccess`).
 */
const appUrl = new URL(config.SHOPIFY_APP_URL);
const api = shopifyApi({
  ...appCredentials,
  hostName: appUrl.host,
  hostScheme: appUrl.protocol === "http:" ? "http" : "https",
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error },
});
export const validateWebhook = api.webhooks.validate;
export const sanitizeShop = api.utils.sanitizeShop;

/** The shops' offline tokens: refreshed, converted from non-expiring ones, failures recorded. */
export const offlineAccess = createOfflineAccess({ api, sessionStorage: shopify.sessionStorage });

/**
 * `authenticate.admin`, then a shop still on a non-expiring offline token (installed before
 * expiring tokens) is converted, without reinstalling. Every admin loader and action does this,
 * not only the layout's: Remix runs a page's loaders in parallel, and one still holding the old
 * token (which Shopify retires) would fail; they wait for the same conversion instead, then
 * authenticate again to get clients with the new token. Online tokens are off, so the context's
 * session is the shop's offline session.
 */
const authenticateAdmin: typeof shopify.authenticate.admin = async (request) => {
  await refuseMalformedAdminRequest(request);
  const context = await libraryAuthenticateAdmin(request);
  refuseAnotherShop(request, context.session.shop);
  if (!(await offlineAccess.convertOnOpen(context.session))) return context;
  return libraryAuthenticateAdmin(request);
};

/** The library's paths that put the query's shop into the page or its CSP (frame-ancestors). */
const AUTH_PATHS_NAMING_THE_SHOP = new Set([`${AUTH_PATH_PREFIX}/session-token`, `${AUTH_PATH_PREFIX}/exit-iframe`]);

/**
 * The library's `authenticate.admin`, its errors on a request it cannot serve answered 400: it
 * throws (a 500 with a stack trace) when /auth/exit-iframe is asked to leave for a site that is
 * neither the shop's nor the app's. Its own answers (thrown Responses: redirects, 401s) pass.
 */
const libraryAuthenticateAdmin: typeof shopify.authenticate.admin = async (request) => {
  try {
    return await shopify.authenticate.admin(request);
  } catch (error) {
    if (error instanceof Response || new URL(request.url).pathname !== `${AUTH_PATH_PREFIX}/exit-iframe`) throw error;
    throw refused(400, "The page to leave for is neither the shop's nor the app's");
  }
};

/** Longest shop domain accepted: a DNS name is at most 253 characters. */
const SHOP_MAX_LENGTH = 253;

function refused(status: 400 | 401, reason: string): Response {
  return new Response(reason, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** The `shop` of the query: absent (null), a valid shop domain, or refused (400). */
function queryShop(request: Request): string | null {
  const values = new URL(request.url).searchParams.getAll("shop");
  if (values.length === 0) return null;
  const shop = values.length === 1 && values[0].length <= SHOP_MAX_LENGTH ? sanitizeShop(values[0]) : null;
  if (!shop) throw refused(400, "The shop parameter is not a shop's myshopify.com domain");
  return shop;
}

/**
 * What the library would otherwise answer with a 500 and a stack trace in the log, or with a
 * redirect meant for a browser: a `shop` that is not a shop domain; a data request (`?_data=`,
 * made by the page's own scripts) without a session token; a POST whose body is not a form.
 */
async function refuseMalformedAdminRequest(request: Request): Promise<void> {
  const url = new URL(request.url);
  // The library's OAuth paths send a bad shop to log in; the session-token bounce and the
  // exit-iframe page would write it into their CSP header, so a bad one is refused there too.
  if (!url.pathname.startsWith(AUTH_PATH_PREFIX) || AUTH_PATHS_NAMING_THE_SHOP.has(url.pathname)) queryShop(request);
  const hasToken = /^Bearer\s+\S/i.test(request.headers.get("authorization") ?? "") || url.searchParams.has("id_token");
  if (url.searchParams.has("_data") && !hasToken) throw refused(401, "A session token is required");
  // Every admin action reads a form: anything else (JSON, broken multipart) is refused here,
  // once, rather than failing in the route.
  await refuseNonFormBody(request);
}

/** A POST whose body is not a form (JSON, broken multipart, plain text): 400, before any route reads it. */
async function refuseNonFormBody(request: Request): Promise<void> {
  if (request.method === "GET" || request.method === "HEAD") return;
  try {
    await request.clone().formData();
  } catch {
    throw refused(400, "The request's body is not a form");
  }
}

/** Every shop-scoped decision is the session token's shop: a query naming another is refused. */
function refuseAnotherShop(request: Request, sessionShop: string): void {
  const shop = queryShop(request);
  if (shop !== null && shop !== sessionShop) throw refused(400, "The shop parameter differs from the session's shop");
}

/**
 * The shop of the request's session token (App Bridge's Authorization header, or the `id_token`
 * Shopify's admin opens the app with), verified with the app's secret; null without a valid one.
 */
export async function verifiedSessionTokenShop(request: Request): Promise<string | null> {
  const url = new URL(request.url);
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const token = bearer ?? url.searchParams.get("id_token");
  if (!token) return null;
  try {
    const payload = await api.session.decodeSessionToken(token);
    return sanitizeShop(new URL(payload.dest).hostname);
  } catch {
    return null;
  }
}

export default shopify;
export const apiVersion = SHOPIFY_API_VERSION;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
export const authenticate = { ...shopify.authenticate, admin: authenticateAdmin };
/** Refreshes expiring tokens on its own, outside `offlineAccess`: use `offlineAccess` for offline work. */
export const unauthenticated = shopify.unauthenticated;
/** The login page's `login`: its form posted as anything but a form is refused (400), not a 500. */
export const login: typeof shopify.login = async (request) => {
  await refuseNonFormBody(request);
  return shopify.login(request);
};
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;
