/**
 * A fake Shopify storefront on 127.0.0.1 for the Refersion tracking app embed.
 *
 * It renders the embed's real Liquid (extensions/refersion-tracking/blocks/refersion-tracking.liquid)
 * with liquidjs into a small theme page and, like Shopify while an app embed is enabled, adds the
 * asset named in the block schema's "javascript" key to every page as a deferred script (served
 * from the extension's assets/), whatever the Liquid renders. It answers the Ajax Cart API like
 * Shopify does (`/cart.js` token `c1-...?key=...`, a fresh random token per call while the cart
 * is empty). A stand-in for Shopify's Customer Privacy API is set up per storefront, and
 * `routeStorefront()` serves a stand-in for Refersion's CDN script and blocks every other host,
 * so nothing leaves the machine.
 *
 * The storefront tests (test/storefront/) and the bench's storefront phase use it; start it with
 * `{ embed: false }` for a baseline page without the app embed (neither its Liquid nor its script).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Liquid } from "liquidjs";
import type { BrowserContext } from "playwright-core";

export const EXTENSION_DIR = fileURLToPath(new URL("../extensions/refersion-tracking", import.meta.url));
export const BLOCK_FILE = path.join(EXTENSION_DIR, "blocks/refersion-tracking.liquid");
export const SCRIPT_FILE = path.join(EXTENSION_DIR, "assets/refersion-tracking.js");
/** The URL the embed loads Refersion's v4 tracker from; `routeStorefront` answers it locally. */
export const REFERSION_SCRIPT_URL = "https://cdn.refersion.com/refersion.js";

/**
 * How the stand-in Customer Privacy API answers:
 * - `not-required`: the visitor's region needs no consent (marketingAllowed() true, no banner);
 * - `granted`: consent was required and given earlier;
 * - `pending`: consent required, banner showing, nothing given yet (use `giveConsent` in the page);
 * - `denied`: consent required and declined;
 * - `absent`: `Shopify.loadFeatures` does not exist;
 * - `load-error`: `loadFeatures` calls back with an error and provides no API;
 * - `never-answers`: `loadFeatures` exists but never calls back.
 */
export type ConsentMode = "not-required" | "granted" | "pending" | "denied" | "absent" | "load-error" | "never-answers";

export interface EmbedInput {
  /** app.metafields.refersion.public_key.value; `null` = metafield not set. */
  publicKey: string | null;
  /** app.metafields.refersion.forwarding_enabled.value; `null` = metafield not set. */
  forwardingEnabled: boolean | null;
  /** Block settings as the theme editor stores them; missing ones take the schema's defaults. */
  settings?: Record<string, unknown>;
}

export interface StorefrontOptions extends Partial<EmbedInput> {
  /**
   * Whether the theme has the app embed enabled at all. true: the page gets the schema's
   * "javascript" asset (deferred) and the block's rendered Liquid; false: neither (baseline page).
   * Default true.
   */
  embed?: boolean;
  consent?: ConsentMode;
  /** Items already in the cart when the storefront starts. Default 1. */
  initialItems?: number;
  /** Status `/cart.js` answers with (500 to simulate an outage). Default 200. */
  cartStatus?: number;
  /** Give the cart a new token on every add and change (as when a cart is replaced). Default false. */
  rotateTokenOnChange?: boolean;
  /** Delay before `/checkout` answers, to model the time a real checkout navigation takes. */
  checkoutDelayMs?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  body: string;
}

export interface RefersionCall {
  method: "initializeXDLS" | "launchDefault" | "sendCheckoutEvent";
  args: unknown[];
  pubKey: unknown;
  settings: Record<string, unknown>;
}

export interface FakeStorefront {
  origin: string;
  /** URL of a storefront page, e.g. `url("/?rfsn=8908369.4f153d")`. */
  url(pathAndQuery?: string): string;
  options: Required<Omit<StorefrontOptions, "settings">> & { settings: Record<string, unknown> };
  cart: { token: string; key: string; items: { id: number; quantity: number }[]; attributes: Record<string, string> };
  /** Every request the server answered, in order. */
  requests: LoggedRequest[];
  /** Calls the stand-in Refersion library received, across page loads. */
  refersionCalls: RefersionCall[];
  /** Adds an item outside the page (another tab, a server-side change). */
  addItem(): void;
  renderPage(): Promise<string>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Liquid rendering of the embed

interface SettingSchema {
  id?: string;
  default?: unknown;
}

export function readBlockSchema(): { target: string; javascript?: unknown; settings: SettingSchema[]; [key: string]: unknown } {
  const source = fs.readFileSync(BLOCK_FILE, "utf8");
  const match = /{%-?\s*schema\s*-?%}([\s\S]*?){%-?\s*endschema\s*-?%}/.exec(source);
  if (!match) throw new Error(`${BLOCK_FILE} has no {% schema %}`);
  return JSON.parse(match[1]);
}

function readLocale(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(EXTENSION_DIR, "locales", file), "utf8"));
}

function lookup(tree: Record<string, unknown>, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), tree);
}

/** Where the fake storefront serves the extension's assets (Shopify serves them from its CDN). */
export const assetUrl = (name: string) => `/assets/${name}`;

/**
 * The file named in the block schema's "javascript" key, or null. Shopify adds it to every page
 * as a deferred script while the app embed is enabled, whatever the block's Liquid renders.
 */
export function blockJavascriptAsset(): string | null {
  const name = readBlockSchema().javascript;
  if (name === undefined) return null;
  if (typeof name !== "string" || !name) throw new Error(`${BLOCK_FILE}: "javascript" must name one file in assets/`);
  return name;
}

const liquid = new Liquid({ strictFilters: true, jsTruthy: false });
// The Shopify filters the block may use; everything else is liquidjs' standard library.
liquid.registerFilter("asset_url", assetUrl);
liquid.registerFilter("t", (key: string) => {
  const value = lookup(readLocale("en.default.json"), key);
  return typeof value === "string" ? value : `translation missing: en.${key}`;
});

/** Renders the app embed's Liquid the way Shopify would for the given app metafields and settings. */
export async function renderEmbed(input: EmbedInput): Promise<string> {
  const source = fs.readFileSync(BLOCK_FILE, "utf8").replace(/{%-?\s*schema\s*-?%}[\s\S]*?{%-?\s*endschema\s*-?%}/, "");
  const defaults = Object.fromEntries(readBlockSchema().settings.filter((s) => s.id).map((s) => [s.id, s.default]));
  const refersion: Record<string, { type: string; value: unknown }> = {};
  if (input.publicKey !== null) refersion.public_key = { type: "single_line_text_field", value: input.publicKey };
  if (input.forwardingEnabled !== null) refersion.forwarding_enabled = { type: "boolean", value: input.forwardingEnabled };
  return liquid.parseAndRender(source, {
    app: { metafields: { refersion } },
    block: { id: "refersion-embed-1", type: "refersion-tracking", settings: { ...defaults, ...input.settings } },
  });
}

// ---------------------------------------------------------------------------------------------
// Page pieces

/** Stand-in for what Shopify's `content_for_header` provides: routes and the Customer Privacy API. */
function shopifyHeaderScript(consent: ConsentMode): string {
  return `<script>
(() => {
  const mode = ${JSON.stringify(consent)};
  const Shopify = (window.Shopify = window.Shopify || {});
  Shopify.routes = { root: "/" };
  window.loadFeaturesCalls = 0; // how often a script asked for the Customer Privacy API
  if (mode === "absent") return;
  const state = {
    required: mode !== "not-required",
    marketing: mode === "not-required" || mode === "granted",
    given: mode === "granted" || mode === "denied",
  };
  const api = {
    shouldShowBanner: () => state.required && !state.given,
    marketingAllowed: () => state.marketing,
    analyticsProcessingAllowed: () => state.marketing,
    userCanBeTracked: () => state.marketing,
    currentVisitorConsent: () => ({ marketing: state.given ? (state.marketing ? "yes" : "no") : "" }),
    setTrackingConsent: (consent, callback) => {
      state.given = true;
      state.marketing = !!consent.marketing;
      document.dispatchEvent(new CustomEvent("visitorConsentCollected", {
        detail: { marketingAllowed: state.marketing, analyticsAllowed: state.marketing, preferencesAllowed: true, saleOfDataAllowed: state.marketing },
      }));
      if (callback) callback();
    },
  };
  Shopify.loadFeatures = (features, callback) => {
    window.loadFeaturesCalls += 1;
    if (mode === "never-answers") return;
    setTimeout(() => {
      if (mode === "load-error") return callback(new Error("consent-tracking-api failed to load"));
      if (features.some((f) => f.name === "consent-tracking-api")) Shopify.customerPrivacy = api;
      callback();
    }, 5);
  };
  // What a cookie banner does when the visitor clicks accept/decline.
  window.giveConsent = (marketing) => Shopify.customerPrivacy.setTrackingConsent({ marketing, analytics: marketing }, () => {});
})();
</script>`;
}

const THEME_BODY = `<header><h1>Fake store</h1><a href="/cart">Cart</a></header>
<main>
  <h2>Linen shirt</h2>
  <p>A light shirt for warm days. This page stands in for a theme's product page.</p>
  <button id="add-fetch" type="button">Add to cart</button>
  <button id="add-xhr" type="button">Add to cart (XHR theme)</button>
  <form id="cart-form" action="/cart" method="post"><button id="checkout-button" type="submit" name="checkout">Check out</button></form>
  <a id="checkout-link" href="/checkout">Checkout</a>
</main>
<script>
  document.getElementById("add-fetch").addEventListener("click", () => {
    fetch("/cart/add.js", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ items: [{ id: 1, quantity: 1 }] }) })
      .then((res) => res.json()).then((item) => { window.lastAdded = item; });
  });
  document.getElementById("add-xhr").addEventListener("click", () => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/cart/add.js");
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onload = () => { window.lastAdded = JSON.parse(xhr.responseText); };
    xhr.send(JSON.stringify({ id: 2, quantity: 1 }));
  });
</script>`;

/** How the stand-in Refersion library misbehaves; by default every call works. */
export interface RefersionStubOptions {
  /**
   * The first `sendCheckoutEvent` call on each page: `throws` synchronously, returns a promise
   * that `rejects`, or returns one that stays `pending` until the page calls
   * `window.resolveCheckoutEvent()`. Every call is recorded; later calls work.
   */
  firstCheckoutEvent?: "works" | "throws" | "rejects" | "pending";
  /** `launchDefault` records the click as usual, then `rejects` or never resolves (`hangs`). */
  launchDefault?: "works" | "rejects" | "hangs";
}

/** Stand-in for Refersion's v4 library: records calls on window and on the fake server. */
export function refersionStub(options: RefersionStubOptions = {}): string {
  return `(() => {
  const options = ${JSON.stringify(options)};
  const calls = (window.__refersionCalls = window.__refersionCalls || []);
  const r = { settings: {}, pubKey: undefined };
  const record = (method, args) => {
    const call = { method, args: Array.from(args), pubKey: r.pubKey, settings: Object.assign({}, r.settings) };
    calls.push(call);
    return fetch("/__fake/refersion-calls", { method: "POST", body: JSON.stringify(call), keepalive: true }).then(() => undefined);
  };
  r.initializeXDLS = function () { return record("initializeXDLS", arguments); };
  r.launchDefault = function () {
    // Refersion records a click from ?rfsn=AID.CS in localStorage.
    const match = /[?&]rfsn=(\\d+)\\.(\\w+)/.exec(location.search);
    if (match) {
      localStorage.setItem("rfsn_v4_id", "click-" + match[1] + "-" + match[2]);
      localStorage.setItem("rfsn_v4_aid", match[1]);
      localStorage.setItem("rfsn_v4_cs", match[2]);
    }
    const recorded = record("launchDefault", arguments);
    if (options.launchDefault === "rejects") return recorded.then(() => Promise.reject(new Error("stand-in: launchDefault failed")));
    if (options.launchDefault === "hangs") return new Promise(() => {});
    return recorded;
  };
  let checkoutEvents = 0;
  r.sendCheckoutEvent = function () {
    const recorded = record("sendCheckoutEvent", arguments);
    checkoutEvents += 1;
    if (checkoutEvents > 1) return recorded;
    if (options.firstCheckoutEvent === "throws") throw new Error("stand-in: sendCheckoutEvent failed");
    if (options.firstCheckoutEvent === "rejects") return recorded.then(() => Promise.reject(new Error("stand-in: sendCheckoutEvent failed")));
    if (options.firstCheckoutEvent === "pending") return recorded.then(() => new Promise((resolve) => { window.resolveCheckoutEvent = resolve; }));
    return recorded;
  };
  window[window.TrackingSystemObject || "r"] = r;
})();`;
}

/** The stand-in with every call working. */
export const REFERSION_STUB = refersionStub();

// ---------------------------------------------------------------------------------------------
// Server

const randomToken = () => `c1-${crypto.randomBytes(12).toString("hex")}`;
const randomKey = () => crypto.randomBytes(8).toString("hex");

export async function startFakeStorefront(options: StorefrontOptions = {}): Promise<FakeStorefront> {
  const opts: FakeStorefront["options"] = {
    embed: options.embed ?? true,
    publicKey: options.publicKey === undefined ? "pub_test_1234567890" : options.publicKey,
    forwardingEnabled: options.forwardingEnabled === undefined ? true : options.forwardingEnabled,
    settings: options.settings ?? {},
    consent: options.consent ?? "not-required",
    initialItems: options.initialItems ?? 1,
    cartStatus: options.cartStatus ?? 200,
    rotateTokenOnChange: options.rotateTokenOnChange ?? false,
    checkoutDelayMs: options.checkoutDelayMs ?? 0,
  };
  const cart: FakeStorefront["cart"] = {
    token: randomToken(),
    key: randomKey(),
    items: Array.from({ length: opts.initialItems }, (_, i) => ({ id: 100 + i, quantity: 1 })),
    attributes: {},
  };
  const requests: LoggedRequest[] = [];
  const refersionCalls: RefersionCall[] = [];

  const rotateToken = () => {
    if (opts.rotateTokenOnChange && cart.items.length > 0) {
      cart.token = randomToken();
      cart.key = randomKey();
    }
  };
  const addItem = (id = 1, quantity = 1) => {
    rotateToken();
    cart.items.push({ id, quantity });
  };

  const cartJson = () => {
    // Shopify hands out a new random token on every call until the cart holds an item.
    const token = cart.items.length ? cart.token : randomToken();
    const itemCount = cart.items.reduce((sum, item) => sum + item.quantity, 0);
    return {
      token: `${token}?key=${cart.key}`,
      note: null,
      attributes: cart.attributes,
      original_total_price: itemCount * 2500,
      total_price: itemCount * 2500,
      total_discount: 0,
      total_weight: 0,
      item_count: itemCount,
      items: cart.items.map((item) => ({ id: item.id, variant_id: item.id, quantity: item.quantity, price: 2500, title: "Linen shirt" })),
      requires_shipping: true,
      currency: "USD",
      items_subtotal_price: itemCount * 2500,
      cart_level_discount_applications: [],
    };
  };

  const renderPage = async () => {
    // An enabled embed contributes its "javascript" asset (deferred, as Shopify includes it) and
    // its rendered Liquid; a disabled one contributes nothing.
    const javascript = opts.embed ? blockJavascriptAsset() : null;
    const embedScript = javascript ? `<script src="${assetUrl(javascript)}" defer></script>` : "";
    const embed = opts.embed ? await renderEmbed(opts) : "";
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake store</title><link rel="icon" href="data:,">
${shopifyHeaderScript(opts.consent)}
${embedScript}
${embed}
</head><body>
${THEME_BODY}
</body></html>`;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, body });
      handle(req.method ?? "GET", url, body, res).catch((error: unknown) => {
        res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error));
      });
    });
  });

  const json = (res: http.ServerResponse, status: number, value: unknown) =>
    void res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
  const parse = (body: string): Record<string, unknown> => {
    try {
      return JSON.parse(body || "{}");
    } catch {
      return {};
    }
  };

  async function handle(method: string, url: URL, body: string, res: http.ServerResponse) {
    const p = url.pathname;
    if (method === "GET" && (p === "/" || p.startsWith("/products/"))) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(await renderPage());
    } else if (method === "GET" && p.startsWith("/assets/")) {
      const file = path.join(EXTENSION_DIR, "assets", path.basename(p));
      if (!fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { "Content-Type": "application/javascript", "Cache-Control": "no-store" }).end(fs.readFileSync(file));
    } else if (method === "GET" && p === "/cart.js") {
      if (opts.cartStatus !== 200) return json(res, opts.cartStatus, { status: opts.cartStatus, message: "Cart unavailable" });
      json(res, 200, cartJson());
    } else if (method === "POST" && (p === "/cart/add.js" || p === "/cart/add")) {
      const input = parse(body) as { items?: { id: number; quantity?: number }[]; id?: number; quantity?: number };
      const lines = input.items ?? [{ id: input.id ?? 1, quantity: input.quantity }];
      for (const line of lines) addItem(line.id, line.quantity ?? 1);
      json(res, 200, { id: lines[0].id, quantity: lines[0].quantity ?? 1, title: "Linen shirt" });
    } else if (method === "POST" && p === "/cart/update.js") {
      const input = parse(body) as { attributes?: Record<string, string> };
      Object.assign(cart.attributes, input.attributes ?? {});
      json(res, 200, cartJson());
    } else if (method === "POST" && p === "/cart/change.js") {
      // Sets the quantity of a line, chosen by 1-based `line` or by variant `id`; 0 removes it.
      const input = parse(body) as { id?: number | string; line?: number; quantity?: number };
      const index = input.line ? input.line - 1 : cart.items.findIndex((item) => String(item.id) === String(input.id));
      if (cart.items[index] && typeof input.quantity === "number") {
        rotateToken();
        if (input.quantity > 0) cart.items[index].quantity = input.quantity;
        else cart.items.splice(index, 1);
      }
      json(res, 200, cartJson());
    } else if (method === "POST" && p === "/cart/clear.js") {
      cart.items = [];
      json(res, 200, cartJson());
    } else if (method === "POST" && p === "/cart") {
      res.writeHead(302, { Location: "/checkout" }).end();
    } else if (method === "GET" && (p === "/cart" || p === "/checkout")) {
      if (p === "/checkout" && opts.checkoutDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.checkoutDelayMs));
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(`<!doctype html><title>${p}</title><link rel="icon" href="data:,"><h1>${p}</h1>`);
    } else if (method === "POST" && p === "/__fake/refersion-calls") {
      refersionCalls.push(parse(body) as unknown as RefersionCall);
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    url: (pathAndQuery = "/") => origin + pathAndQuery,
    options: opts,
    cart,
    requests,
    refersionCalls,
    addItem: () => addItem(),
    renderPage,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Keeps a browser context on the fake storefront: answers Refersion's CDN URL with the stand-in
 * (configured by `refersion`) and aborts every request to any host but 127.0.0.1, recording it in `blocked`.
 */
export async function routeStorefront(context: BrowserContext, refersion: RefersionStubOptions = {}) {
  const stub = refersionStub(refersion);
  const traffic = { blocked: [] as string[], refersionScriptRequests: 0 };
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || new URL(url).hostname === "127.0.0.1") return route.continue();
    if (url === REFERSION_SCRIPT_URL) {
      traffic.refersionScriptRequests += 1;
      return route.fulfill({ status: 200, contentType: "application/javascript", body: stub });
    }
    traffic.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  return traffic;
}
