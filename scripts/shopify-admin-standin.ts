import http from "node:http";
import type { AddressInfo } from "node:net";
import type { GqlOrder, GqlRefund } from "../app/backfill/graphql-order";
import { createShopifyTokenEndpoint, TOKEN_PATH, type AppCredentials, type ShopifyTokenEndpoint } from "./shopify-token-endpoint";

/**
 * A local stand-in for Shopify's Admin GraphQL API, serving every operation the app makes:
 * - the admin pages': currentAppInstallation, metafieldsSet and the main theme's
 *   config/settings_data.json (`themes`), per the shop's `embed`, `metafields` and `themeName`;
 * - "resend past orders": ordersCount, orders (a page of ids), order (one order, its lines paged)
 *   and an order's refunds, for the shop's `orders` whose createdAt falls in the
 *   `created_at:>='…' created_at:<='…'` search;
 * - the checkout pixel: webPixelCreate (TAKEN when the app's pixel exists), webPixelUpdate,
 *   webPixelDelete and the `webPixel` query, on the shop's `webPixel`; settings are checked as
 *   Shopify checks them against the extension's TOML (INVALID_SETTINGS); `pixelScopes: false`
 *   answers them with ACCESS_DENIED, as for an app without write_pixels.
 * Requests reach it through scripts/shopify-admin-fetch-preload.mjs (the app's fetch for
 * https://<shop>.myshopify.com goes to 127.0.0.1 with the shop in `x-standin-shop`). It checks the
 * access token (401 otherwise: unknown, replaced or expired; see `tokens`, which also serves
 * Shopify's token endpoint, scripts/shopify-token-endpoint.ts) and records every request;
 * anything it cannot serve is answered 404 and listed in `unexpected()`.
 *
 * It enforces a cost-based rate limit as Shopify describes it: a leaky bucket per shop
 * (maximumAvailable, restoreRate per second); a request whose requested cost exceeds what is
 * available is answered with a THROTTLED error and the bucket's state in `extensions.cost`;
 * otherwise its actual cost is taken from the bucket. `throttleEvery: n` also throttles every
 * n-th request (after draining the bucket), so that the client meets THROTTLED answers however
 * carefully it paces itself. Every request is recorded with its time, so tests can check that
 * the client waited as told.
 */

export const API_PATH = "/admin/api/2026-10/graphql.json";
export const APP_INSTALLATION_ID = "gid://shopify/AppInstallation/424242";
export const APP_HANDLE = "refersion-order-forwarding";
export const BLOCK_UUID = "7f0e1c7a-3b1d-4c6e-9a51-2f4b8d6c9e10";

/** An order as the stand-in holds it: the GraphQL Order, and its refunds. */
export type StandinOrder = GqlOrder & { refunds?: GqlRefund[] };

export type EmbedFixture = "enabled" | "disabled" | "not_added" | "no_settings_file" | "no_theme" | "http_error" | "base64";
export type MetafieldsFixture = "ok" | "user_error" | "http_error";

export interface StandinShop {
  /** The token the Admin API accepts (a non-expiring one); `tokens.set` for expiring ones. */
  accessToken: string;
  /** The shop's order history. */
  orders: StandinOrder[];
  /** false: asking for the buyer's name, email or IP is refused with ACCESS_DENIED. */
  protectedCustomerData?: boolean;
  /** The app embed in the main theme's settings_data.json. */
  embed: EmbedFixture;
  metafields: MetafieldsFixture;
  themeName: string;
  /** The app's web pixel on the shop, as the pixel mutations leave it. */
  webPixel?: { id: string; settings: string } | null;
  /** false: the pixel's operations are refused (the app lacks write_pixels / read_customer_events). */
  pixelScopes?: boolean;
  /** The shop's time zone in its settings (`shop { ianaTimezone }`); UTC unless set. */
  ianaTimezone?: string;
}

export interface BucketOptions {
  maximumAvailable: number;
  restoreRate: number;
  /** Throttle every n-th request regardless of the bucket (0: never). */
  throttleEvery: number;
  /** Delay before answering an `order` request, to make runs slow enough to interrupt. */
  orderDelayMs: number;
}

export type Operation = "shop" | "currentAppInstallation" | "metafieldsSet" | "themes" | "ordersCount" | "orders" | "order" | "refunds" | WebPixelOperation | "unknown";

type WebPixelOperation = "webPixelCreate" | "webPixelUpdate" | "webPixelDelete" | "webPixel";

export interface StandinRequest {
  at: number;
  shop: string | null;
  path: string;
  operation: Operation;
  variables: Record<string, unknown>;
  status: number;
  throttled: "no" | "bucket" | "forced";
  /** The bucket when the request arrived (after refilling). */
  availableBefore: number;
  requestedCost: number;
  /** What the answer reported: the wait it implies before `requestedCost` is available, in ms. */
  impliedWaitMs: number;
  personalData: boolean;
}

const REQUESTED_COST: Record<Exclude<Operation, "unknown">, number> = {
  shop: 1,
  currentAppInstallation: 1,
  metafieldsSet: 10,
  themes: 12,
  ordersCount: 1,
  orders: 52,
  order: 800,
  refunds: 540,
  webPixelCreate: 10,
  webPixelUpdate: 10,
  webPixelDelete: 10,
  webPixel: 1,
};

function actualCost(operation: Exclude<Operation, "unknown">, size: number): number {
  if (operation === "order") return 40 + 10 * size;
  if (operation === "orders") return 2 + size;
  if (operation === "metafieldsSet" || operation === "themes" || operation.startsWith("webPixel")) return REQUESTED_COST[operation];
  return 1;
}

function operationOf(query: string): Operation {
  if (/^(\s|#[^\n]*\n)*(query\s*\w*\s*)?\{\s*shop\s*\{/.test(query)) return "shop";
  if (/\bwebPixelCreate\s*\(/.test(query)) return "webPixelCreate";
  if (/\bwebPixelUpdate\s*\(/.test(query)) return "webPixelUpdate";
  if (/\bwebPixelDelete\s*\(/.test(query)) return "webPixelDelete";
  if (/\bwebPixel\s*\{/.test(query)) return "webPixel";
  if (/\bmetafieldsSet\s*\(/.test(query)) return "metafieldsSet";
  if (/\bcurrentAppInstallation\b/.test(query)) return "currentAppInstallation";
  if (/\bthemes\s*\(/.test(query)) return "themes";
  if (/\bordersCount\s*\(/.test(query)) return "ordersCount";
  if (/\borders\s*\(/.test(query)) return "orders";
  if (/\brefunds\s*\(first:/.test(query)) return "refunds";
  if (/\border\s*\(\s*id:/.test(query)) return "order";
  return "unknown";
}

/** The reportUrl validation of extensions/refersion-checkout-pixel/shopify.extension.toml. */
const PIXEL_REPORT_URL = /^(https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:[0-9]{1,5})?)\/[^\s#]*$/;

let nextWebPixelId = 7_000_001;

/** Shopify's answers to the pixel's operations; changes `fixture.webPixel`. */
function webPixelAnswer(fixture: StandinShop, operation: WebPixelOperation, variables: Record<string, unknown>): Record<string, unknown> {
  if (fixture.pixelScopes === false) {
    return { data: { [operation]: null }, errors: [{ message: `Access denied for ${operation} field.`, extensions: { code: "ACCESS_DENIED" } }] };
  }
  const refused = (code: string, message: string, field: string[] | null = null) => ({ data: { [operation]: { webPixel: null, userErrors: [{ code, field, message }] } } });
  if (operation === "webPixel") {
    if (!fixture.webPixel) return { data: { webPixel: null }, errors: [{ message: "No web pixel was found for this app.", extensions: { code: "NOT_FOUND" } }] };
    return { data: { webPixel: fixture.webPixel } };
  }
  if (operation === "webPixelDelete") {
    if (!fixture.webPixel || fixture.webPixel.id !== variables.id) {
      return { data: { webPixelDelete: { deletedWebPixelId: null, userErrors: [{ code: "NOT_FOUND", field: ["id"], message: "Web pixel not found" }] } } };
    }
    const deletedWebPixelId = fixture.webPixel.id;
    fixture.webPixel = null;
    return { data: { webPixelDelete: { deletedWebPixelId, userErrors: [] } } };
  }
  const settings = (variables.webPixel as { settings?: unknown } | undefined)?.settings;
  let reportUrl: unknown;
  try {
    reportUrl = typeof settings === "string" ? (JSON.parse(settings) as { reportUrl?: unknown }).reportUrl : undefined;
  } catch {
    reportUrl = undefined;
  }
  if (typeof reportUrl !== "string" || reportUrl.length < 12 || reportUrl.length > 500 || !PIXEL_REPORT_URL.test(reportUrl)) {
    return refused("INVALID_SETTINGS", "Settings are invalid", ["settings"]);
  }
  if (operation === "webPixelCreate") {
    if (fixture.webPixel) return refused("TAKEN", "Web pixel is taken.");
    fixture.webPixel = { id: `gid://shopify/WebPixel/${nextWebPixelId++}`, settings: settings as string };
    return { data: { webPixelCreate: { webPixel: fixture.webPixel, userErrors: [] } } };
  }
  if (!fixture.webPixel || fixture.webPixel.id !== variables.id) return refused("NOT_FOUND", "Web pixel not found", ["id"]);
  fixture.webPixel = { ...fixture.webPixel, settings: settings as string };
  return { data: { webPixelUpdate: { webPixel: fixture.webPixel, userErrors: [] } } };
}

const SEARCH = /^created_at:>='([^']+)'(?: created_at:<='([^']+)')?$/;

function cursorOf(index: number): string {
  return Buffer.from(`cursor:${index}`).toString("base64url");
}

function indexOf(cursor: unknown): number {
  if (typeof cursor !== "string") return 0;
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new Error(`unknown cursor ${cursor}`);
  return Number(match[1]) + 1;
}

/** A theme's config/settings_data.json as Shopify stores it: a comment, then JSON. */
export function settingsDataFile(embed: "enabled" | "disabled" | "not_added"): string {
  const blocks: Record<string, unknown> = {
    "9876543210123456789": { type: "shopify://apps/some-other-app/blocks/chat/0b1c2d3e", disabled: false, settings: {} },
  };
  if (embed !== "not_added") {
    blocks["17200000000000000001"] = {
      type: `shopify://apps/${APP_HANDLE}/blocks/refersion-tracking/${BLOCK_UUID}`,
      disabled: embed === "disabled",
      settings: { without_consent_api: "dont_track", debug: false },
    };
  }
  const json = {
    current: { logo_width: 90, colors_solid_button_labels: "#ffffff", blocks, sections: {}, content_for_index: [] },
    presets: { Default: { logo_width: 90 } },
  };
  return [
    "/*",
    " * ------------------------------------------------------------",
    " * IMPORTANT: The contents of this file are auto-generated.",
    " *",
    " * This file may be updated by the Shopify admin theme editor",
    " * or related systems. Please exercise caution as any changes",
    " * made to this file may be overwritten.",
    " * ------------------------------------------------------------",
    " */",
    JSON.stringify(json, null, 2),
  ].join("\n");
}

function themesAnswer(fixture: StandinShop) {
  if (fixture.embed === "no_theme") return { themes: { nodes: [] } };
  const files =
    fixture.embed === "no_settings_file"
      ? []
      : fixture.embed === "base64"
        ? [
            {
              filename: "config/settings_data.json",
              body: { __typename: "OnlineStoreThemeFileBodyBase64", contentBase64: Buffer.from(settingsDataFile("enabled")).toString("base64") },
            },
          ]
        : [
            {
              filename: "config/settings_data.json",
              body: { __typename: "OnlineStoreThemeFileBodyText", content: settingsDataFile(fixture.embed as "enabled" | "disabled" | "not_added") },
            },
          ];
  return { themes: { nodes: [{ id: "gid://shopify/OnlineStoreTheme/1001", name: fixture.themeName, files: { nodes: files } }] } };
}

function metafieldsSetAnswer(fixture: StandinShop, variables: Record<string, unknown>): { status: number; payload: unknown } {
  if (fixture.metafields === "http_error") return { status: 503, payload: { errors: "Service unavailable" } };
  if (fixture.metafields === "user_error") {
    return {
      status: 200,
      payload: {
        data: {
          metafieldsSet: {
            metafields: [],
            userErrors: [{ field: ["metafields", "0", "value"], message: "Value is invalid", code: "INVALID_VALUE" }],
          },
        },
      },
    };
  }
  const inputs = (variables.metafields ?? []) as { namespace: string; key: string }[];
  return { status: 200, payload: { data: { metafieldsSet: { metafields: inputs.map(({ namespace, key }) => ({ namespace, key })), userErrors: [] } } } };
}

export interface ShopifyAdminStandin {
  url: string;
  requests: StandinRequest[];
  /** Shopify's token endpoint and the tokens the Admin API accepts. */
  tokens: ShopifyTokenEndpoint;
  /**
   * Sets (or changes) what the stand-in holds for a shop. A new shop, or a new `accessToken`, also
   * sets that token at the token endpoint (non-expiring; `tokens.set` for expiring ones).
   */
  setShop(shop: string, fixture: Partial<StandinShop>): void;
  setBucket(options: Partial<BucketOptions>): void;
  /** Requests it could not serve or refused (unknown operation or shop, malformed search, a token it does not accept). */
  unexpected(): StandinRequest[];
  /** The app's web pixel on the shop now (null: none). */
  webPixelOf(shop: string): { id: string; settings: string } | null;
  /** The metafields of each metafieldsSet the shop received. */
  metafieldWrites(shop: string): Record<string, unknown>[][];
  close(): Promise<void>;
}

/** `appEnv`: the credentials of the app it serves (the app's SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SCOPES). */
export async function startShopifyAdminStandin(options: { appEnv: AppCredentials; bucket?: Partial<BucketOptions> }): Promise<ShopifyAdminStandin> {
  const shops = new Map<string, StandinShop>();
  const requests: StandinRequest[] = [];
  const tokens = createShopifyTokenEndpoint(options.appEnv);
  let bucketOptions: BucketOptions = { maximumAvailable: 2_000, restoreRate: 100, throttleEvery: 0, orderDelayMs: 0, ...options.bucket };
  const buckets = new Map<string, { available: number; at: number }>();
  let served = 0;

  const bucketOf = (shop: string) => {
    const now = Date.now();
    const bucket = buckets.get(shop) ?? { available: bucketOptions.maximumAvailable, at: now };
    bucket.available = Math.min(bucketOptions.maximumAvailable, bucket.available + ((now - bucket.at) / 1000) * bucketOptions.restoreRate);
    bucket.at = now;
    buckets.set(shop, bucket);
    return bucket;
  };

  async function serve(shop: string | null, path: string, method: string, headers: http.IncomingHttpHeaders, body: string, send: (status: number, payload: unknown) => void) {
    let query = "";
    let variables: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(body) as { query?: string; variables?: Record<string, unknown> };
      query = parsed.query ?? "";
      variables = parsed.variables ?? {};
    } catch {
      // Recorded as unknown below.
    }
    const operation = operationOf(query);
    const entry: StandinRequest = {
      at: Date.now(),
      shop,
      path,
      operation,
      variables,
      status: 0,
      throttled: "no",
      availableBefore: 0,
      requestedCost: operation === "unknown" ? 0 : REQUESTED_COST[operation],
      impliedWaitMs: 0,
      personalData: /\bclientIp\b|\bfirstName\b/.test(query),
    };
    requests.push(entry);
    const answer = (status: number, payload: unknown) => {
      entry.status = status;
      send(status, payload);
    };

    const fixture = shop ? shops.get(shop) : undefined;
    if (method !== "POST" || path !== API_PATH || !fixture || operation === "unknown") return answer(404, { errors: "Not Found" });
    if (!tokens.admits(shop!, headers["x-shopify-access-token"])) {
      return answer(401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    }

    // The rate limit.
    const bucket = bucketOf(shop!);
    entry.availableBefore = bucket.available;
    served += 1;
    const forced = bucketOptions.throttleEvery > 0 && served % bucketOptions.throttleEvery === 0;
    if (forced) bucket.available = Math.min(bucket.available, entry.requestedCost / 4);
    const throttleStatus = () => ({
      maximumAvailable: bucketOptions.maximumAvailable,
      currentlyAvailable: Math.floor(bucket.available),
      restoreRate: bucketOptions.restoreRate,
    });
    if (forced || bucket.available < entry.requestedCost) {
      entry.throttled = forced ? "forced" : "bucket";
      const status = throttleStatus();
      entry.impliedWaitMs = Math.max(0, ((entry.requestedCost - status.currentlyAvailable) / status.restoreRate) * 1000);
      return answer(200, {
        errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
        extensions: { cost: { requestedQueryCost: entry.requestedCost, actualQueryCost: null, throttleStatus: status } },
      });
    }
    const withCost = (payload: Record<string, unknown>, size = 0) => {
      const cost = actualCost(operation, size);
      bucket.available -= cost;
      return { ...payload, extensions: { cost: { requestedQueryCost: entry.requestedCost, actualQueryCost: cost, throttleStatus: throttleStatus() } } };
    };

    if (operation === "shop") return answer(200, withCost({ data: { shop: { ianaTimezone: fixture.ianaTimezone ?? "UTC" } } }));
    if (operation === "currentAppInstallation") return answer(200, withCost({ data: { currentAppInstallation: { id: APP_INSTALLATION_ID } } }));
    if (operation === "webPixelCreate" || operation === "webPixelUpdate" || operation === "webPixelDelete" || operation === "webPixel") {
      return answer(200, withCost(webPixelAnswer(fixture, operation, variables)));
    }
    if (operation === "metafieldsSet") {
      const { status, payload } = metafieldsSetAnswer(fixture, variables);
      return answer(status, status === 200 ? withCost(payload as Record<string, unknown>) : payload);
    }
    if (operation === "themes") {
      if (fixture.embed === "http_error") return answer(500, { errors: "Internal error" });
      return answer(200, withCost({ data: themesAnswer(fixture) }));
    }

    // Only orders in the searched range, oldest first.
    const search = typeof variables.query === "string" ? SEARCH.exec(variables.query) : null;
    if ((operation === "ordersCount" || operation === "orders") && !search) return answer(200, { errors: [{ message: `Unsupported search: ${String(variables.query)}` }] });
    const since = search ? Date.parse(search[1]) : 0;
    const until = search?.[2] ? Date.parse(search[2]) : Infinity;
    const inRange = fixture.orders
      .filter((order) => Date.parse(order.createdAt) >= since && Date.parse(order.createdAt) <= until)
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));

    if (operation === "ordersCount") return answer(200, withCost({ data: { ordersCount: { count: inRange.length, precision: "EXACT" } } }));
    if (operation === "orders") {
      const first = Number(/orders\(first:\s*(\d+)/.exec(query)?.[1] ?? 0);
      const start = indexOf(variables.after);
      const nodes = inRange.slice(start, start + first);
      const data = {
        orders: {
          nodes: nodes.map((order) => ({ id: order.id })),
          pageInfo: { hasNextPage: start + first < inRange.length, endCursor: nodes.length ? cursorOf(start + nodes.length - 1) : null },
        },
      };
      return answer(200, withCost({ data }, nodes.length));
    }
    const order = fixture.orders.find((candidate) => candidate.id === variables.id) ?? null;
    if (operation === "refunds") {
      const refunds = (order?.refunds ?? []).slice(0, Number(/refunds\(first:\s*(\d+)/.exec(query)?.[1] ?? 0));
      return answer(200, withCost({ data: { order: order ? { refunds } : null } }, refunds.length));
    }

    // One order.
    if (bucketOptions.orderDelayMs) await new Promise((resolve) => setTimeout(resolve, bucketOptions.orderDelayMs));
    if (order && entry.personalData && fixture.protectedCustomerData === false) {
      return answer(
        200,
        withCost({
          data: { order: null },
          errors: [{ message: "This app is not approved to access the Customer object.", extensions: { code: "ACCESS_DENIED" }, path: ["order", "customer"] }],
        }),
      );
    }
    if (!order) return answer(200, withCost({ data: { order: null } }));
    const first = Number(/lineItems\(first:\s*(\d+)/.exec(query)?.[1] ?? 0);
    const start = indexOf(variables.linesAfter);
    const lines = order.lineItems.nodes.slice(start, start + first);
    const { email, clientIp, customer, billingAddress, refunds: _refunds, ...rest } = order;
    const data = {
      order: {
        ...rest,
        ...(entry.personalData ? { email, clientIp, customer, billingAddress } : {}),
        lineItems: {
          nodes: lines,
          pageInfo: { hasNextPage: start + first < order.lineItems.nodes.length, endCursor: lines.length ? cursorOf(start + lines.length - 1) : null },
        },
      },
    };
    answer(200, withCost({ data }, lines.length));
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const shop = typeof req.headers["x-standin-shop"] === "string" ? req.headers["x-standin-shop"] : null;
      const path = new URL(req.url ?? "/", "http://standin.invalid").pathname;
      const body = Buffer.concat(chunks).toString("utf8");
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (path === TOKEN_PATH) {
        const { status, payload, disconnect } = await tokens.handle(shop, req.method ?? "GET", body);
        if (disconnect) return void req.socket.destroy();
        return send(status, payload);
      }
      await serve(shop, path, req.method ?? "GET", req.headers, body, send);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    setShop(shop, fixture) {
      const known = shops.get(shop);
      const current: StandinShop = known ?? { accessToken: `shpat_${shop.split(".")[0]}`, orders: [], embed: "not_added", metafields: "ok", themeName: "Dawn" };
      shops.set(shop, { ...current, ...fixture });
      if (!known || fixture.accessToken !== undefined) tokens.set(shop, { accessToken: fixture.accessToken ?? current.accessToken });
    },
    setBucket(next) {
      bucketOptions = { ...bucketOptions, ...next };
      buckets.clear();
    },
    unexpected: () => requests.filter((entry) => entry.operation === "unknown" || entry.status === 404 || entry.status === 401),
    webPixelOf: (shop) => shops.get(shop)?.webPixel ?? null,
    metafieldWrites: (shop) =>
      requests.filter((entry) => entry.shop === shop && entry.operation === "metafieldsSet").map((entry) => (entry.variables.metafields ?? []) as Record<string, unknown>[]),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
