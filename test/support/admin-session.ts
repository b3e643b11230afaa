import type { PrismaClient } from "@prisma/client";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { RequestType, setUpValidRequest, setUpValidSession } from "@shopify/shopify-api/test-helpers";
import { embeddedQuery as queryWith, mintSessionToken as mint } from "../../scripts/shopify-session-token";
import type { ShopCredentials } from "../../scripts/shopify-token-endpoint";
import { TEST_ENV } from "./test-env";

/**
 * What Shopify's admin gives an embedded app, made for tests with Shopify's own test helpers
 * (`@shopify/shopify-api/test-helpers`): a request carrying a session token (an HS256 JWT signed
 * with the app's secret) in the Authorization header as App Bridge sends it, or in the
 * shop/host/id_token query the admin opens the app with; and the offline session
 * installation leaves in session storage.
 */

/** The helpers take a store's name and append .myshopify.com themselves. */
function storeName(shop: string): string {
  return shop.replace(/\.myshopify\.com$/, "");
}

const APP_CREDENTIALS = { apiKey: TEST_ENV.SHOPIFY_API_KEY, apiSecretKey: TEST_ENV.SHOPIFY_API_SECRET };

function appRequest(path: string, form?: Record<string, string>): Request {
  const url = new URL(path, TEST_ENV.SHOPIFY_APP_URL);
  if (!form) return new Request(url);
  return new Request(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

/**
 * A request from the embedded admin to the app, authenticated the way App Bridge does it
 * (Authorization: Bearer <session token>), by `setUpValidRequest`. `form` makes it a POST with a
 * urlencoded body. `apiSecretKey` signs with another secret, for requests that must be refused.
 */
export async function signedAdminRequest(
  shop: string,
  path: string,
  form?: Record<string, string>,
  options: { apiSecretKey?: string } = {},
): Promise<Request> {
  return setUpValidRequest(
    { type: RequestType.Bearer, store: storeName(shop), ...APP_CREDENTIALS, ...options },
    appRequest(path, form),
  );
}

/** `url` as Shopify's admin opens the app in its iframe: embedded=1, shop, host and id_token added by `setUpValidRequest`. */
export async function embeddedAdminUrl(shop: string, url: string): Promise<string> {
  const request = await setUpValidRequest({ type: RequestType.Admin, store: storeName(shop), ...APP_CREDENTIALS }, new Request(url));
  return request.url;
}

export function accessTokenFor(shop: string): string {
  return `shpat_${shop.split(".")[0]}`;
}

/** Made unlike the access token, so that no 12-character piece of one is a piece of the other. */
export function refreshTokenFor(shop: string): string {
  return `shprt-${storeName(shop).split("").reverse().join("")}-refresh`;
}

const HOUR_MS = 3_600_000;

export interface OfflineSessionOptions {
  accessToken?: string;
  /** When the access token expires (an hour from now by default); null: a non-expiring token, as shops installed before expiring tokens hold. */
  expires?: Date | null;
  refreshToken?: string;
  /** 90 days from now by default. */
  refreshTokenExpires?: Date;
}

let sessionStorage: PrismaSessionStorage<PrismaClient> | null = null;

/**
 * Stores the offline session installation leaves (made by `setUpValidSession`) through the
 * app's session storage, so the library authenticates without a token exchange with Shopify:
 * an expiring token with its refresh token, or with `expires: null` a non-expiring one. Returns
 * what Shopify holds for it, for the stand-in (`tokens.set`).
 */
export async function storeOfflineSession(shop: string, options: OfflineSessionOptions = {}): Promise<ShopCredentials> {
  const { default: prisma } = await import("~/db.server");
  sessionStorage ??= new PrismaSessionStorage(prisma);
  const accessToken = options.accessToken ?? accessTokenFor(shop);
  const expires = options.expires === undefined ? new Date(Date.now() + HOUR_MS) : options.expires;
  const refresh = expires
    ? { refreshToken: options.refreshToken ?? refreshTokenFor(shop), refreshTokenExpires: options.refreshTokenExpires ?? new Date(Date.now() + 90 * 24 * HOUR_MS) }
    : null;
  const session = setUpValidSession({ shop, isOnline: false, accessToken, scope: TEST_ENV.SCOPES, expires: expires ?? undefined, ...refresh });
  await sessionStorage.storeSession(session);
  return {
    accessToken,
    accessTokenExpiresAt: expires?.getTime() ?? null,
    refreshToken: refresh?.refreshToken ?? null,
    refreshTokenExpiresAt: refresh?.refreshTokenExpires.getTime() ?? null,
  };
}

/*
 * Synchronous variants, for callers that build a URL or a request where nothing can be awaited.
 * Shopify's helpers sign asynchronously; scripts/shopify-session-token.ts signs the same claims
 * with node:crypto.
 */

/** A session token for `shop`, as App Bridge sends it; the test app's key and secret unless told otherwise. */
export function mintSessionToken(shop: string, options: { apiKey?: string; secret?: string; ttlSeconds?: number; now?: number } = {}): string {
  return mint(shop, { ...options, apiKey: options.apiKey ?? TEST_ENV.SHOPIFY_API_KEY, secret: options.secret ?? TEST_ENV.SHOPIFY_API_SECRET });
}

/** The query string Shopify's admin opens an embedded app with (see embeddedAdminUrl). */
export function embeddedQuery(shop: string, token = mintSessionToken(shop)): string {
  return queryWith(shop, token);
}

/** signedAdminRequest's synchronous variant; `token` replaces the session token. */
export function adminRequest(shop: string, path: string, form?: Record<string, string>, token = mintSessionToken(shop)): Request {
  const request = appRequest(path, form);
  request.headers.set("Authorization", `Bearer ${token}`);
  return request;
}

/** A loader's or action's result: plain data, or `data(value, { status })`. */
/** What `data(value, init)` from @remix-run/node returns. */
type Unwrapped<T> = T extends { type: string; data: infer D; init: ResponseInit | null } ? D : T;

export function unwrap<T>(result: T): { status: number; data: Unwrapped<T> } {
  if (result && typeof result === "object" && (result as { type?: unknown }).type === "DataWithResponseInit") {
    const wrapped = result as unknown as { data: never; init: ResponseInit | null };
    return { status: wrapped.init?.status ?? 200, data: wrapped.data };
  }
  return { status: 200, data: result as never };
}

/** Runs a loader/action that is expected to throw a Response and returns that Response. */
export async function thrownResponse(run: () => Promise<unknown>): Promise<Response> {
  try {
    await run();
  } catch (error) {
    if (error instanceof Response) return error;
    throw error;
  }
  throw new Error("Expected a thrown Response, but the call returned");
}
