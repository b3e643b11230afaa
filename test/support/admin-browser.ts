import fs from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { APP_BRIDGE_SCRIPT_URL, APP_BRIDGE_STANDIN_SCRIPT } from "../../scripts/app-bridge-standin";
import { CHROMIUM_LAUNCH_OPTIONS } from "../../scripts/chromium";
import { embeddedAdminUrl } from "./admin-session";

if (!fs.existsSync(CHROMIUM_LAUNCH_OPTIONS.executablePath)) throw new Error(`${CHROMIUM_LAUNCH_OPTIONS.executablePath} is missing: apt-get install -y chromium`);

/** Shopify's library answers 410 to bot user agents, and HeadlessChrome counts as one. */
export const DESKTOP_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export interface AdminBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors seen so far (blocked hosts and expected 404s left out). */
  problems: string[];
  /** Requests to hosts other than 127.0.0.1, all blocked. */
  blocked: string[];
  /** A path the test loads expecting a 404, which the browser also reports as a console error. */
  expectNotFound(pathname: string): void;
  /** Opens `pathname` of the app as Shopify's admin opens it for `shop` (the browser's own by default), until the network is idle. */
  open(pathname: string, shop?: string): ReturnType<Page["goto"]>;
  close(): Promise<void>;
}

/**
 * Chromium on the production app, as Shopify's admin loads it (embedded=1, shop, host,
 * id_token), every host but 127.0.0.1 blocked. App Bridge's script is blocked too, unless
 * `appBridge` is set: then scripts/app-bridge-standin.ts is served in its place.
 */
export async function launchAdminBrowser(options: {
  appUrl: string;
  shop: string;
  viewport?: { width: number; height: number };
  appBridge?: boolean;
}): Promise<AdminBrowser> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  const context = await browser.newContext({ userAgent: DESKTOP_USER_AGENT, viewport: options.viewport ?? { width: 1280, height: 900 } });
  const problems: string[] = [];
  const blocked: string[] = [];
  const notFound = new Set<string>();
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    if (options.appBridge && url.href === APP_BRIDGE_SCRIPT_URL) {
      return route.fulfill({ status: 200, contentType: "text/javascript", body: APP_BRIDGE_STANDIN_SCRIPT });
    }
    blocked.push(url.href);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  // Shorter than the test timeout, so a missing element fails with Playwright's own message.
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const source = message.location().url;
    // The browser reports each blocked request as a console error; those are in `blocked`.
    const failedLoad = /^Failed to load resource/.test(message.text()) && source;
    if (failedLoad && new URL(source).hostname !== "127.0.0.1") return;
    if (failedLoad && /status of 404/.test(message.text()) && notFound.has(new URL(source).pathname)) return;
    problems.push(`console error: ${message.text()} (${source})`);
  });
  return {
    browser,
    context,
    page,
    problems,
    blocked,
    expectNotFound: (pathname) => notFound.add(pathname),
    open: async (pathname, shop = options.shop) => page.goto(await embeddedAdminUrl(shop, `${options.appUrl}${pathname}`), { waitUntil: "networkidle" }),
    close: () => browser.close(),
  };
}
