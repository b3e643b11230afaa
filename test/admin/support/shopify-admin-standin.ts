import http from "node:http";
import type { AddressInfo } from "node:net";
import { createShopifyTokenEndpoint, TOKEN_PATH, type ShopifyTokenEndpoint } from "../../support/shopify-token-endpoint";

/**
 * A local stand-in for Shopify's Admin GraphQL API, answering the three operations the admin
 * pages make: currentAppInstallation, metafieldsSet and the main theme's settings_data.json; and,
 * for "resend past orders", an order history with no order in it (ordersCount, orders: for
 * orders, test/support/shopify-graphql-standin.ts).
 * Requests reach it through test/support/shopify-admin-fetch-preload.mjs, which names the shop
 * in `x-standin-shop`. It checks the access token like Shopify does (401 otherwise: unknown,
 * replaced or expired) and records everything; anything else is answered 404 and listed in
 * `unexpected()`. `tokens` serves Shopify's token endpoint (token exchange when the merchant
 * opens the app, refresh, conversion of a non-expiring token: test/support/shopify-token-endpoint.ts).
 */

export const API_PATH = "/admin/api/2026-10/graphql.json";
export const APP_INSTALLATION_ID = "gid://shopify/AppInstallation/424242";
export const APP_HANDLE = "refersion-order-forwarding";
export const BLOCK_UUID = "7f0e1c7a-3b1d-4c6e-9a51-2f4b8d6c9e10";

export type EmbedFixture = "enabled" | "disabled" | "not_added" | "no_settings_file" | "no_theme" | "http_error" | "base64";
export type MetafieldsFixture = "ok" | "user_error" | "http_error";

export interface ShopFixture {
  /** The token the Admin API accepts (a non-expiring one); `tokens.set` for expiring ones. */
  accessToken: string;
  embed: EmbedFixture;
  metafields: MetafieldsFixture;
  themeName: string;
}

export interface StandinRequest {
  shop: string | null;
  path: string;
  operation: "currentAppInstallation" | "metafieldsSet" | "themes" | "ordersCount" | "orders" | "unknown";
  variables: Record<string, unknown> | null;
  status: number;
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

function operationOf(query: string): StandinRequest["operation"] {
  if (/\bmetafieldsSet\s*\(/.test(query)) return "metafieldsSet";
  if (/\bcurrentAppInstallation\b/.test(query)) return "currentAppInstallation";
  if (/\bthemes\s*\(/.test(query)) return "themes";
  if (/\bordersCount\s*\(/.test(query)) return "ordersCount";
  if (/\borders\s*\(/.test(query)) return "orders";
  return "unknown";
}

function themesAnswer(fixture: ShopFixture) {
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

export interface ShopifyAdminStandin {
  url: string;
  requests: StandinRequest[];
  /** Shopify's token endpoint and the tokens the Admin API accepts. */
  tokens: ShopifyTokenEndpoint;
  /** Sets (or changes) what the stand-in answers for a shop. */
  setShop(shop: string, fixture: Partial<ShopFixture> & { accessToken?: string }): void;
  /** Requests that were not one of the known operations, or had no known shop. */
  unexpected(): StandinRequest[];
  metafieldWrites(shop: string): Record<string, unknown>[][];
  close(): Promise<void>;
}

export async function startShopifyAdminStandin(): Promise<ShopifyAdminStandin> {
  const shops = new Map<string, ShopFixture>();
  const requests: StandinRequest[] = [];
  const tokens = createShopifyTokenEndpoint();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const shop = typeof req.headers["x-standin-shop"] === "string" ? req.headers["x-standin-shop"] : null;
      const path = new URL(req.url ?? "/", "http://standin.invalid").pathname;
      if (path === TOKEN_PATH) {
        const { status, payload, disconnect } = await tokens.handle(shop, req.method ?? "GET", Buffer.concat(chunks).toString("utf8"));
        if (disconnect) return void req.socket.destroy();
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(payload));
        return;
      }
      let query = "";
      let variables: Record<string, unknown> | null = null;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { query?: string; variables?: Record<string, unknown> };
        query = body.query ?? "";
        variables = body.variables ?? null;
      } catch {
        // Recorded as unknown below.
      }
      const entry: StandinRequest = { shop, path, operation: operationOf(query), variables, status: 0 };
      requests.push(entry);
      const send = (status: number, payload: unknown) => {
        entry.status = status;
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(payload));
      };

      const fixture = shop ? shops.get(shop) : undefined;
      if (req.method !== "POST" || path !== API_PATH || !fixture || entry.operation === "unknown") {
        return send(404, { errors: "Not Found" });
      }
      if (!tokens.admits(shop!, req.headers["x-shopify-access-token"])) {
        return send(401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
      }
      switch (entry.operation) {
        case "currentAppInstallation":
          return send(200, { data: { currentAppInstallation: { id: APP_INSTALLATION_ID } } });
        case "metafieldsSet": {
          if (fixture.metafields === "http_error") return send(503, { errors: "Service unavailable" });
          if (fixture.metafields === "user_error") {
            return send(200, {
              data: {
                metafieldsSet: {
                  metafields: [],
                  userErrors: [{ field: ["metafields", "0", "value"], message: "Value is invalid", code: "INVALID_VALUE" }],
                },
              },
            });
          }
          const inputs = (variables?.metafields ?? []) as { namespace: string; key: string }[];
          return send(200, {
            data: { metafieldsSet: { metafields: inputs.map(({ namespace, key }) => ({ namespace, key })), userErrors: [] } },
          });
        }
        case "themes":
          if (fixture.embed === "http_error") return send(500, { errors: "Internal error" });
          return send(200, { data: themesAnswer(fixture) });
        case "ordersCount":
          return send(200, { data: { ordersCount: { count: 0, precision: "EXACT" } } });
        case "orders":
          return send(200, { data: { orders: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } });
      }
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
      const current = known ?? { accessToken: `shpat_${shop.split(".")[0]}`, embed: "not_added", metafields: "ok", themeName: "Dawn" };
      shops.set(shop, { ...current, ...fixture });
      if (!known || fixture.accessToken !== undefined) tokens.set(shop, { accessToken: fixture.accessToken ?? current.accessToken });
    },
    unexpected: () => requests.filter((entry) => entry.operation === "unknown" || entry.status === 404),
    metafieldWrites: (shop) =>
      requests
        .filter((entry) => entry.shop === shop && entry.operation === "metafieldsSet")
        .map((entry) => (entry.variables?.metafields ?? []) as Record<string, unknown>[]),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
