/**
 * What Shopify's admin gives an embedded app, for local runs (the bench's admin pages, the tests):
 * a session token (an HS256 JWT signed with the app's secret, claims per Shopify's session-token
 * docs) and the query the admin opens the app with.
 */
import crypto from "node:crypto";

/** The admin's `host` parameter: base64 of admin.shopify.com/store/<name>. */
export function hostParam(shop: string): string {
  return Buffer.from(`admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, "")}`).toString("base64");
}

/** A session token for `shop`, as App Bridge sends it, for the app with this key and secret. */
export function mintSessionToken(shop: string, options: { apiKey: string; secret: string; ttlSeconds?: number; now?: number }): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const payload = {
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: options.apiKey,
    sub: "74219999",
    exp: now + (options.ttlSeconds ?? 3600),
    nbf: now - 5,
    iat: now - 5,
    jti: crypto.randomUUID(),
    sid: crypto.randomUUID(),
  };
  const base64url = (value: string) => Buffer.from(value).toString("base64url");
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = crypto.createHmac("sha256", options.secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/** The query string Shopify's admin opens an embedded app with: embedded=1, shop, host, id_token. */
export function embeddedQuery(shop: string, sessionToken: string): string {
  return new URLSearchParams({ embedded: "1", shop, host: hostParam(shop), id_token: sessionToken }).toString();
}
