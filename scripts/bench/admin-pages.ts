/**
 * What the embedded admin's pages weigh in the browser: per page, the JavaScript and CSS a first
 * visit transfers, in Chromium, from the production build served as `npm start` serves it (with
 * `compression`). `npm run bench` (phase 6, `BENCH_ONLY=admin`) reports it and
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
 * build), each script also names the npm packages whose code it holds.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../../test/storefront/fake-storefront";

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

/**
 * For each browser output of the build, keyed by its path under the public build folder
 * (e.g. `/build/_shared/chunk-ABC.js`), the npm packages whose code it holds.
 */
export function packagesByAsset(serverBuild: string): Map<string, string[]> | null {
  const file = path.join(path.dirname(serverBuild), "metafile.js.json");
  if (!fs.existsSync(file)) return null;
  const { outputs } = JSON.parse(fs.readFileSync(file, "utf8")) as { outputs: Record<string, MetafileOutput> };
  const byAsset = new Map<string, string[]>();
  for (const [output, { inputs }] of Object.entries(outputs)) {
    const packages = new Set<string>();
    for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
      const name = bytesInOutput > 0 ? packageOf(input) : null;
      if (name) packages.add(name);
    }
    // Output paths are relative to the project (public/build/...); the browser sees /build/...
    const urlPath = output.slice(output.indexOf("/build/"));
    byAsset.set(urlPath, [...packages].sort());
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
  packages: Map<string, string[]> | null,
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
            packages: kind === "js" ? (packages?.get(requestUrl.pathname) ?? null) : null,
          };
        })(),
      );
    });
    const response = await tab.goto(url, { waitUntil: "networkidle" });
    if (response?.status() !== 200) problems.push(`answered ${response?.status() ?? "nothing"}`);
    const assets = (await Promise.all(pending)).filter((asset): asset is AssetTransfer => asset !== null);
    if (problems.length > 0) throw new Error(`${page.name} (${page.path}) did not load cleanly: ${problems.join("; ")}`);
    const js = assets.filter((asset) => asset.kind === "js");
    const pagePackages = packages ? [...new Set(js.flatMap((asset) => asset.packages ?? []))].sort() : null;
    return { name: page.name, path: page.path, js: totals(js), css: totals(assets.filter((asset) => asset.kind === "css")), packages: pagePackages, assets };
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
  const packages = packagesByAsset(options.serverBuild);
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  try {
    const weights: AdminPageWeight[] = [];
    for (const page of options.pages) weights.push(await measurePage(browser, page, await options.urlFor(page.path), packages));
    return weights;
  } finally {
    await browser.close();
  }
}
