import { ADMIN_JS_BUDGET, adminPages, measureAdminPages, serverOnlyModules, type AdminPageWeight } from "../../scripts/bench/admin-pages";
import { embeddedAdminUrl } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import { SERVER_BUILD, type ProductionApp } from "../support/production-app";

/**
 * The JavaScript budget of the admin pages that validate nothing in the browser, and no
 * server-only code on any admin page, measured in Chromium on the production build like `npm run
 * bench` does (scripts/bench/admin-pages.ts): every script a first visit loads, shared chunks
 * included, gzipped. docs/performance.md has the figures.
 */

const SHOP = "weight-shop.myshopify.com";

const harness = await startAdminHarness();
const { insertDelivery } = await import("../support/outbox");

let server: ProductionApp;
let weights: AdminPageWeight[] = [];

function weightOf(name: string): AdminPageWeight {
  const weight = weights.find((page) => page.name === name);
  if (!weight) throw new Error(`${name} was not measured`);
  return weight;
}

function describeScripts(weight: AdminPageWeight): string {
  return weight.assets
    .filter((asset) => asset.kind === "js")
    .map((asset) => `${asset.path} ${asset.gzipBytes} B gzip (${asset.packages?.join(", ") || "app code"})`)
    .join("\n");
}

beforeAll(async () => {
  await harness.install(SHOP, { embed: "enabled" });
  const delivery = await insertDelivery(SHOP, { status: "failed", reasonCode: "refersion_rejected", reasonDetail: "Refersion rejected the order (422)", lastStatusCode: 422, attempts: 1 }, [
    { startedAt: new Date(), durationMs: 87, statusCode: 422, outcome: "permanent", responseExcerpt: '{"errors":["items: must not be empty"]}' },
  ]);
  server = await harness.startApp();
  weights = await measureAdminPages({
    pages: adminPages(delivery.id),
    urlFor: (pathname) => embeddedAdminUrl(SHOP, `${server.url}${pathname}`),
    serverBuild: SERVER_BUILD,
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await harness.close();
});

describe("admin page weight in Chromium", () => {
  it("loads every page with its scripts and the stylesheet", () => {
    expect(weights.map((weight) => weight.name)).toEqual(adminPages("-").map((page) => page.name));
    for (const weight of weights) {
      expect(weight.js.files, weight.name).toBeGreaterThan(3);
      expect(weight.css.files, weight.name).toBe(1);
      // The build's metafile names the packages: without it the check below would prove nothing.
      expect(weight.packages, weight.name).toContain("react-dom");
    }
  });

  it.each(ADMIN_JS_BUDGET.pages)(`%s loads at most ${ADMIN_JS_BUDGET.gzipBytes} bytes of gzipped JavaScript`, (name) => {
    const weight = weightOf(name);
    expect(weight.js.gzipBytes, `${name}'s scripts:\n${describeScripts(weight)}`).toBeLessThanOrEqual(ADMIN_JS_BUDGET.gzipBytes);
  });

  it.each(adminPages("-").map((page) => page.name))("%s loads no server-only code (database, session storage, Shopify's API clients)", (name) => {
    const weight = weightOf(name);
    expect(weight.serverOnly, `${name}'s scripts:\n${describeScripts(weight)}`).toEqual([]);
    // The one part of Shopify's library allowed (its web adapter, brought by `boundary`) is
    // there: the rule above is what lets it through.
    expect(weight.packages, name).toContain("@shopify/shopify-api");
  });

  it.each(ADMIN_JS_BUDGET.pages)("%s loads no validation library", (name) => {
    const weight = weightOf(name);
    const forbidden = (weight.packages ?? []).filter((name) => (ADMIN_JS_BUDGET.forbiddenPackages as readonly string[]).includes(name));
    expect(forbidden, `${name}'s scripts:\n${describeScripts(weight)}`).toEqual([]);
  });
});

describe("server-only code", () => {
  it("is every file of the database, session storage and API client packages, and any of Shopify's library but its web adapter and runtime", () => {
    const modules = [
      "@prisma/client/runtime/library.js",
      ".prisma/client/index-browser.js",
      "pg/lib/client.js",
      "pg-protocol/dist/parser.js",
      "@libsql/client/lib-esm/web.js",
      "@shopify/shopify-app-session-storage-prisma/dist/esm/prisma.mjs",
      "@shopify/shopify-app-session-storage/dist/esm/index.mjs",
      "@shopify/admin-api-client/dist/graphql/client.mjs",
      "@shopify/graphql-client/dist/graphql-client/graphql-client.mjs",
      "@shopify/shopify-api/dist/esm/lib/clients/admin/graphql/client.mjs",
      "@shopify/shopify-api/dist/esm/lib/auth/oauth/refresh-token.mjs",
      "@shopify/shopify-api/dist/esm/adapters/node/index.mjs",
    ];
    const allowed = [
      "@shopify/shopify-api/dist/esm/adapters/web-api/adapter.mjs",
      "@shopify/shopify-api/dist/esm/runtime/http/index.mjs",
      "@shopify/shopify-app-remix/dist/esm/server/boundary/index.mjs",
      "@shopify/polaris/build/esm/components/Banner/Banner.js",
      "pgp/index.js",
    ];
    expect(serverOnlyModules([...modules, ...allowed])).toEqual(modules);
  });
});
