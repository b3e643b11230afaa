/**
 * Local runs only (tests, the bench): sends this process's requests for Shopify shops
 * (https://<shop>.myshopify.com/...) to the local Admin API stand-in named by
 * SHOPIFY_ADMIN_STANDIN_URL (scripts/shopify-admin-standin.ts). Every other request is left
 * alone. The original host goes along in `x-standin-shop`.
 *
 * Shopify's API library keeps the fetch it finds when it is first imported, so this must run
 * first: `--import <this file>` for a server process (startAppProcess's shopifyAdminStandinUrl),
 * or an import before any app module in a test file.
 */
const target = process.env.SHOPIFY_ADMIN_STANDIN_URL;
if (!target) throw new Error("shopify-admin-fetch-preload: set SHOPIFY_ADMIN_STANDIN_URL to the Admin API stand-in's URL");
const standin = new URL(target);
if (standin.hostname !== "127.0.0.1") throw new Error("shopify-admin-fetch-preload: the stand-in must listen on 127.0.0.1");

const SHOP_HOST = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i;
const realFetch = globalThis.fetch;

function urlOf(input) {
  if (typeof input === "string") return new URL(input);
  if (input instanceof URL) return input;
  return new URL(input.url);
}

globalThis.fetch = function fetchThroughShopifyStandin(input, init) {
  const url = urlOf(input);
  if (!SHOP_HOST.test(url.hostname)) return realFetch(input, init);
  const rerouted = new URL(url.pathname + url.search, standin);
  const request = new Request(input instanceof Request ? input : url, init);
  const headers = new Headers(request.headers);
  headers.set("x-standin-shop", url.hostname);
  return realFetch(rerouted, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
    signal: request.signal,
    duplex: "half",
  });
};
