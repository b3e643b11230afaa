import crypto from "node:crypto";
import { TEST_ENV } from "../../support/test-env";

/**
 * What Shopify's admin gives an embedded app: a session token (an HS256 JWT signed with the
 * app's secret) and, on first load, the shop/host/id_token query. These helpers make the same
 * for tests, with no Shopify involved.
 */

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** A session token for `shop`, as App Bridge sends it (claims per Shopify's session-token docs). */
export function mintSessionToken(
  shop: string,
  options: { apiKey?: string; secret?: string; ttlSeconds?: number; now?: number } = {},
): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const payload = {
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: options.apiKey ?? TEST_ENV.SHOPIFY_API_KEY,
    sub: "74219999",
    exp: now + (options.ttlSeconds ?? 3600),
    nbf: now - 5,
    iat: now - 5,
    jti: crypto.randomUUID(),
    sid: crypto.randomUUID(),
  };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = crypto.createHmac("sha256", options.secret ?? TEST_ENV.SHOPIFY_API_SECRET).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/** The admin's `host` parameter: base64 of admin.shopify.com/store/<name>. */
export function hostParam(shop: string): string {
  return Buffer.from(`admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, "")}`).toString("base64");
}

/** The query string Shopify's admin opens an embedded app with. */
export function embeddedQuery(shop: string, token = mintSessionToken(shop)): string {
  return new URLSearchParams({ embedded: "1", shop, host: hostParam(shop), id_token: token }).toString();
}

export function accessTokenFor(shop: string): string {
  return `shpat_${shop.split(".")[0]}`;
}

/**
 * Stores the offline session PrismaSessionStorage would have after installation, so the library
 * authenticates without a token exchange with Shopify.
 */
export async function storeOfflineSession(shop: string, accessToken = accessTokenFor(shop)) {
  const { default: prisma } = await import("~/db.server");
  await prisma.session.upsert({
    where: { id: `offline_${shop}` },
    create: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: TEST_ENV.SCOPES, accessToken },
    update: { scope: TEST_ENV.SCOPES, accessToken },
  });
}

/**
 * A request from the embedded admin to the app, authenticated the way App Bridge does it
 * (Authorization: Bearer <session token>). `form` makes it a POST with a urlencoded body.
 */
export function adminRequest(shop: string, path: string, form?: Record<string, string>, token = mintSessionToken(shop)): Request {
  const url = new URL(path, TEST_ENV.SHOPIFY_APP_URL);
  const headers = new Headers({ Authorization: `Bearer ${token}` });
  if (!form) return new Request(url, { headers });
  headers.set("Content-Type", "application/x-www-form-urlencoded");
  return new Request(url, { method: "POST", headers, body: new URLSearchParams(form).toString() });
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
