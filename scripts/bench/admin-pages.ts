/**
 * What the embedded admin's pages weigh in the browser: per page, the JavaScript and CSS a first
 * visit transfers, in Chromium, from the production build served as `npm start` serves it (with
 * `compression`). `npm run bench` (phase 5, `BENCH_ONLY=admin`) reports it and
 * test/admin/page-weight.test.ts holds the budget below.
 *
 * Each page is opened in a fresh browser context (nothing cached), the way Shopify's admin opens
 * it, and observed until the network is idle: the route's module, every shared chunk it imports,
 * the entry, the manifest and the stylesheet all count, for every page that loads them. Per
 * response:
 * - `bytes`: the body as built (as the browser decoded it);
 * - `gzipBytes`: that body gzipped at zlib's default level, which is what `compression` sends to a
 *   browser asking for gzip. Budgets are on this figure: it depends neither on the encoding a
 *   browser negotiates nor on the middleware's 1 KB threshold, below which bodies go as they are;
 * - `transferredBytes`: the body as it came over the wire (Chromium's encoded size).
 * When the build's metafile is there (`remix build` writes metafile.js.json beside the server
 * build), each script also names the npm packages whose code it holds, and the files of those
 * that are server-only code (SERVER_ONLY_CODE).
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../chromium";

export interface AdminPage {
  name: string;
  path: string;
}

/** Every page of the embedded admin; the delivery detail needs a delivery of the shop. */
export function adminPages(deliveryId: string): AdminPage[] {
  return [
    { name: "home", path: "/app" },
    { name: "delivery log", path: "/app/deliveries" },
    { name: "delivery detail", path: `/app/deliveries/${encodeURIComponent(deliveryId)}` },
    { name: "settings", path: "/app/settings" },
    { name: "resend past orders", path: "/app/backfill" },
    { name: "privacy", path: "/app/privacy" },
  ];
}

/**
 * Pages that validate nothing in the browser load neither zod nor more than this much gzipped
 * JavaScript (bytes; 180 KB). Only the settings form validates in the browser.
 */
export const ADMIN_JS_BUDGET = {
  pages: ["home", "delivery log", "delivery detail"],
  gzipBytes: 180_000,
  forbiddenPackages: ["zod"],
} as const;

/**
 * Code that belongs on the server and must reach no admin page's browser bundle: the database
 * (Prisma, its PostgreSQL and libSQL drivers), the session storage, and Shopify's API clients
 * (its GraphQL and REST clients, token exchange and refresh). A `.server` module or a route's
 * loader keeps them out; a stray import from a component or a non-`.server` module brings them in.
 *
 * One exception, by file: `@shopify/shopify-api`'s web adapter and runtime abstractions
 * (`dist/esm/adapters/web-api/`, `dist/esm/runtime/`: fetch, Headers and the runtime string,
 * about 2 KB). Every page loads them with `boundary` from `@shopify/shopify-app-remix/server` (the
 * layout's error boundary and headers), whose index imports the adapter for its side effect;
 * they hold no client, credential handling or session code. Any other file of that package is
 * server-only.
 */
export const SERVER_ONLY_CODE = {
  /** Whole packages; a trailing `*` matches every package of a scope or with that prefix. */
  packages: [
    "@prisma/*",
    "prisma",
    ".prisma",
    "pg",
    "pg-*",
    "@libsql/*",
    "libsql",
    "@shopify/shopify-app-session-storage*",
    "@shopify/admin-api-client",
    "@shopify/graphql-client",
    "@shopify/storefront-api-client",
  ],
  /** Packages of which only these folders may be loaded (paths inside the package). */
  allowedFilesOf: {
    "@shopify/shopify-api": ["dist/esm/adapters/web-api/", "dist/esm/runtime/"],
  } as Record<string, readonly string[]>,
} as const;

function matchesPackage(name: string, pattern: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** The server-only files among `modules` (paths inside node_modules, e.g. `pg/lib/client.js`). */
export function serverOnlyModules(modules: readonly string[]): string[] {
  return modules.filter((module) => {
    const name = packageOf(`node_modules/${module}`);
    if (!name) return false;
    if (SERVER_ONLY_CODE.packages.some((pattern) => matchesPackage(name, pattern))) return true;
    const allowed = SERVER_ONLY_CODE.allowedFilesOf[name];
    return allowed !== undefined && !allowed.some((folder) => module.slice(name.length + 1).startsWith(folder));
  });
}

/** Shopify's library answers 410 to bot user agents, and HeadlessChrome counts as one. */
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export interface AssetTransfer {
  /** Path of the response (our origin only). */
  path: string;
  kind: "js" | "css";
  bytes: number;
  gzipBytes: number;
  transferredBytes: number;
  /** Content-Encoding of the response ("identity" when none). */
  encoding: string;
  /** npm packages with code in this script, from the build's metafile; null when unknown. */
  packages: string[] | null;
  /** Server-only files in this script (SERVER_ONLY_CODE), paths inside node_modules; null when unknown. */
  serverOnly: string[] | null;
}

export interface TransferTotals {
  files: number;
  bytes: number;
  gzipBytes: number;
  transferredBytes: number;
}

export interface AdminPageWeight {
  name: string;
  path: string;
  js: TransferTotals;
  css: TransferTotals;
  /** npm packages with code in any script the page loaded; null without a metafile. */
  packages: string[] | null;
  /** Server-only files in any script the page loaded (SERVER_ONLY_CODE); null without a metafile. */
  serverOnly: string[] | null;
  assets: AssetTransfer[];
}

interface MetafileOutput {
  inputs: Record<string, { bytesInOutput: number }>;
}

/** The npm package an esbuild input path belongs to, or null for the app's own code. */
function packageOf(input: string): string | null {
  const at = input.lastIndexOf("node_modules/");
  if (at === -1) return null;
  const parts = input.slice(at + "node_modules/".length).split("/");
  return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** What one browser output of the build holds from npm. */
export interface AssetContents {
  /** The npm packages whose code it holds. */
  packages: string[];
  /** The server-only files among them (SERVER_ONLY_CODE), paths inside node_modules. */
  serverOnly: string[];
}

/**
 * For each browser output of the build, keyed by its path under the public build folder
 * (e.g. `/build/_shared/chunk-ABC.js`), the npm code it holds.
 */
export function contentsByAsset(serverBuild: string): Map<string, AssetContents> | null {
  const file = path.join(path.dirname(serverBuild), "metafile.js.json");
  if (!fs.existsSync(file)) return null;
  const { outputs } = JSON.parse(fs.readFileSync(file, "utf8")) as { outputs: Record<string, MetafileOutput> };
  const byAsset = new Map<string, AssetContents>();
  for (const [output, { inputs }] of Object.entries(outputs)) {
    const packages = new Set<string>();
    const modules: string[] = [];
    for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
      const name = bytesInOutput > 0 ? packageOf(input) : null;
      if (!name) continue;
      packages.add(name);
      modules.push(input.slice(input.lastIndexOf("node_modules/") + "node_modules/".length));
    }
    // Output paths are relative to the project (public/build/...); the browser sees /build/...
    const urlPath = output.slice(output.indexOf("/build/"));
    byAsset.set(urlPath, { packages: [...packages].sort(), serverOnly: serverOnlyModules(modules).sort() });
  }
  return byAsset;
}

function kindOf(contentType: string): AssetTransfer["kind"] | null {
  if (/javascript/i.test(contentType)) return "js";
  if (/^text\/css/i.test(contentType)) return "css";
  return null;
}

function totals(assets: AssetTransfer[]): TransferTotals {
  return {
    files: assets.length,
    bytes: assets.reduce((sum, asset) => sum + asset.bytes, 0),
    gzipBytes: assets.reduce((sum, asset) => sum + asset.gzipBytes, 0),
    transferredBytes: assets.reduce((sum, asset) => sum + asset.transferredBytes, 0),
  };
}

async function measurePage(
  browser: Browser,
  page: AdminPage,
  url: string,
  contents: Map<string, AssetContents> | null,
): Promise<AdminPageWeight> {
  const origin = new URL(url).origin;
  const context = await browser.newContext({ userAgent: USER_AGENT, viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const pending: Promise<AssetTransfer | null>[] = [];
  try {
    // Nothing leaves the machine: App Bridge's CDN script is blocked, and the pages cope without it.
    await context.route("**/*", (route) =>
      new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("blockedbyclient"),
    );
    const tab = await context.newPage();
    tab.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    tab.on("requestfinished", (request) => {
      const requestUrl = new URL(request.url());
      if (requestUrl.origin !== origin) return;
      pending.push(
        (async () => {
          const response = await request.response();
          const kind = response ? kindOf(response.headers()["content-type"] ?? "") : null;
          if (!response || !kind) return null;
          const body = await response.body();
          const sizes = await request.sizes();
          return {
            path: requestUrl.pathname,
            kind,
            bytes: body.length,
            gzipBytes: zlib.gzipSync(body).length,
            transferredBytes: sizes.responseBodySize,
            encoding: response.headers()["content-encoding"] ?? "identity",
            packages: kind === "js" ? (contents?.get(requestUrl.pathname)?.packages ?? null) : null,
            serverOnly: kind === "js" ? (contents?.get(requestUrl.pathname)?.serverOnly ?? null) : null,
          };
        })(),
      );
    });
    const response = await tab.goto(url, { waitUntil: "networkidle" });
    if (response?.status() !== 200) problems.push(`answered ${response?.status() ?? "nothing"}`);
    const assets = (await Promise.all(pending)).filter((asset): asset is AssetTransfer => asset !== null);
    if (problems.length > 0) throw new Error(`${page.name} (${page.path}) did not load cleanly: ${problems.join("; ")}`);
    const js = assets.filter((asset) => asset.kind === "js");
    const pagePackages = contents ? [...new Set(js.flatMap((asset) => asset.packages ?? []))].sort() : null;
    const serverOnly = contents ? [...new Set(js.flatMap((asset) => asset.serverOnly ?? []))].sort() : null;
    const css = totals(assets.filter((asset) => asset.kind === "css"));
    return { name: page.name, path: page.path, js: totals(js), css, packages: pagePackages, serverOnly, assets };
  } finally {
    await context.close();
  }
}

/**
 * Loads each page once in Chromium and returns what it transferred. `urlFor` turns a page's path
 * into the URL Shopify's admin would open (embedded=1, shop, host, id_token); `serverBuild`
 * locates the metafile for the package attribution.
 */
export async function measureAdminPages(options: {
  pages: AdminPage[];
  urlFor: (pathname: string) => string | Promise<string>;
  serverBuild: string;
}): Promise<AdminPageWeight[]> {
  const contents = contentsByAsset(options.serverBuild);
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  try {
    const weights: AdminPageWeight[] = [];
    for (const page of options.pages) weights.push(await measurePage(browser, page, await options.urlFor(page.path), contents));
    return weights;
  } finally {
    await browser.close();
  }
}
