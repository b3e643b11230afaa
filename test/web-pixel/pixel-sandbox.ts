/**
 * What the web pixel tests need besides Chromium:
 * - `buildPixelWithCli()`: the pixel bundled by the project's own Shopify CLI
 *   (`shopify app build --skip-dependencies-installation`, offline), in a temporary copy of the
 *   app so it never races the repository's own build output;
 * - `readPixelToml()`: the extension's shopify.extension.toml (privacy declaration, settings);
 * - `pixelManagerLoads()`: Shopify's pixel manager's rule for loading an app pixel, applied to
 *   that declaration and a visitor's consent;
 * - `settingsViolations()`: the settings definition's validations, as webPixelCreate applies them;
 * - `startCheckoutServers()`: a shop origin serving a Thank you page with the sandbox harness
 *   (sandbox-worker.js, a dedicated worker like Shopify's strict sandbox) and the built pixel, and
 *   an app origin (another port, so reports are cross-origin) recording every request it gets.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";

import { runShopifyCli } from "../support/shopify-cli";

const ROOT = path.resolve(".");
export const PIXEL_NAME = "refersion-checkout-pixel";
export const PIXEL_DIR = path.join(ROOT, "extensions", PIXEL_NAME);
export const PIXEL_TOML = path.join(PIXEL_DIR, "shopify.extension.toml");
const WORKER_FILE = fileURLToPath(new URL("./sandbox-worker.js", import.meta.url));

export interface BuiltPixel {
  code: string;
  bytes: number;
  /** What the CLI printed. */
  log: string;
}

/**
 * Runs the project's Shopify CLI on a temporary app holding shopify.app.toml, package.json,
 * tsconfig.json (esbuild reads it for the TypeScript source) and this extension, with the
 * repository's node_modules linked in: the dependency resolves from the root as in the repository.
 */
export async function buildPixelWithCli(): Promise<BuiltPixel> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "web-pixel-build-"));
  try {
    const app = path.join(temp, "app");
    const home = path.join(temp, "home");
    fs.mkdirSync(path.join(app, "extensions"), { recursive: true });
    fs.mkdirSync(home);
    for (const file of ["shopify.app.toml", "package.json", "tsconfig.json"]) fs.copyFileSync(path.join(ROOT, file), path.join(app, file));
    fs.cpSync(PIXEL_DIR, path.join(app, "extensions", PIXEL_NAME), {
      recursive: true,
      filter: (source) => !/[/\\](dist|node_modules)$/.test(source),
    });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(app, "node_modules"), "dir");

    const { status, output: log } = await runShopifyCli(["app", "build", "--skip-dependencies-installation", "--path", app], { cwd: app, home });
    if (status !== 0) throw new Error(`shopify app build exited ${status}:\n${log}`);
    const bundle = path.join(app, "extensions", PIXEL_NAME, "dist", `${PIXEL_NAME}.js`);
    if (!fs.existsSync(bundle)) throw new Error(`The CLI built no ${bundle}:\n${log}`);
    const code = fs.readFileSync(bundle, "utf8");
    return { code, bytes: Buffer.byteLength(code), log };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

export interface CustomerPrivacyDeclaration {
  analytics: boolean;
  marketing: boolean;
  preferences: boolean;
  sale_of_data: "enabled" | "disabled" | "ldu";
}

export interface SettingsField {
  name: string;
  description?: string;
  type: string;
  validations?: { name: string; value: string }[];
}

export interface PixelToml {
  name: string;
  type: string;
  runtime_context: string;
  customer_privacy?: CustomerPrivacyDeclaration;
  settings?: { type: string; fields: Record<string, SettingsField> };
}

export function readPixelToml(text = fs.readFileSync(PIXEL_TOML, "utf8")): PixelToml {
  return parseToml(text) as unknown as PixelToml;
}

export interface VisitorConsent {
  analytics: boolean;
  marketing: boolean;
  preferences: boolean;
  saleOfData: boolean;
}

export const CONSENT_GIVEN: VisitorConsent = { analytics: true, marketing: true, preferences: true, saleOfData: true };

/**
 * "Shopify's pixel manager will only load your pixel if there is visitor permission for all of
 * the settings that your pixel declares as required" (Pixel privacy, shopify.dev). A declared
 * `sale_of_data = "enabled"` requires that the visitor has not opted out of the sale of data.
 */
export function pixelManagerLoads(declaration: CustomerPrivacyDeclaration | undefined, visitor: VisitorConsent): boolean {
  if (!declaration) throw new Error("The pixel declares no [customer_privacy]: this harness does not guess the platform's default");
  return (
    (!declaration.analytics || visitor.analytics) &&
    (!declaration.marketing || visitor.marketing) &&
    (!declaration.preferences || visitor.preferences) &&
    (declaration.sale_of_data !== "enabled" || visitor.saleOfData)
  );
}

/** The values webPixelCreate would refuse, by field (min/max: length; regex: the whole value). */
export function settingsViolations(fields: Record<string, SettingsField>, settings: Record<string, unknown>): string[] {
  const violations: string[] = [];
  for (const key of Object.keys(settings)) if (!(key in fields)) violations.push(`${key}: not a declared field`);
  for (const [key, field] of Object.entries(fields)) {
    const value = settings[key];
    if (typeof value !== "string") {
      violations.push(`${key}: missing`);
      continue;
    }
    for (const { name, value: rule } of field.validations ?? []) {
      const ok =
        name === "min" ? value.length >= Number(rule) : name === "max" ? value.length <= Number(rule) : name === "regex" ? new RegExp(rule).test(value) : false;
      if (!ok) violations.push(`${key}: fails ${name} ${rule}`);
    }
  }
  return violations;
}

/** The pixel's init data as the Web Pixels API documents RegisterInit. */
export function pixelInit(options: { shopDomain: string; pageUrl: string; consent: VisitorConsent }) {
  const url = new URL(options.pageUrl);
  return {
    context: {
      document: {
        characterSet: "UTF-8",
        location: {
          hash: url.hash,
          host: url.host,
          hostname: url.hostname,
          href: url.href,
          origin: url.origin,
          pathname: url.pathname,
          port: url.port,
          protocol: url.protocol,
          search: url.search,
        },
        referrer: "",
        title: "Thank you - Demo shop",
      },
      navigator: { cookieEnabled: true, language: "en-US", languages: ["en-US"], userAgent: "Mozilla/5.0" },
      window: { innerHeight: 800, innerWidth: 1200, outerHeight: 800, outerWidth: 1200, pageXOffset: 0, pageYOffset: 0, location: {}, origin: url.origin, screen: { height: 800, width: 1200 }, screenX: 0, screenY: 0, scrollX: 0, scrollY: 0 },
    },
    data: {
      customer: null,
      cart: null,
      shop: {
        name: "Demo shop",
        myshopifyDomain: options.shopDomain,
        countryCode: "US",
        storefrontUrl: url.origin,
        paymentSettings: { currencyCode: "USD" },
      },
      purchasingCompany: null,
    },
    customerPrivacy: {
      analyticsProcessingAllowed: options.consent.analytics,
      marketingAllowed: options.consent.marketing,
      preferencesProcessingAllowed: options.consent.preferences,
      saleOfDataAllowed: options.consent.saleOfData,
    },
  };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CheckoutServers {
  /** The Thank you page (the shop's origin). */
  thankYouUrl: string;
  /** The app's report endpoint, on another origin. */
  reportUrl: string;
  /** Every request the app's origin received. */
  appRequests: ReceivedRequest[];
  close(): Promise<void>;
}

const THANK_YOU_PATH = "/checkouts/cn/c1-test/thank-you";
export const REPORT_PATH = "/pixel/checkout-completed";

/** The page keeps each sandbox's traffic in window.sandboxes[i].log; startSandbox() resolves once loaded. */
const THANK_YOU_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Thank you - Demo shop</title></head>
<body><h1>Thank you for your order</h1>
<script>
window.sandboxes = [];
window.failStorage = {};
window.startSandbox = (load) => new Promise((resolve) => {
  const log = { storage: [], fetches: [], fetchResults: [], subscriptions: [], errors: [], renders: null };
  const worker = new Worker("/sandbox-worker.js");
  worker.onerror = (event) => log.errors.push("worker: " + event.message);
  worker.onmessage = ({ data }) => {
    if (data.type === "storage") {
      let value = null, error = null;
      try {
        if (window.failStorage[data.area]) throw new Error(data.area + " is unavailable");
        const store = window[data.area];
        value = data.method === "length" ? store.length : store[data.method](...data.args);
        if (value === undefined) value = null;
      } catch (e) { error = String(e && e.message || e); }
      log.storage.push({ area: data.area, method: data.method, args: data.args });
      worker.postMessage({ type: "storage-result", id: data.id, value, error });
    } else if (data.type === "fetch") log.fetches.push({ url: data.url, init: data.init });
    else if (data.type === "fetch-done") log.fetchResults.push(data);
    else if (data.type === "subscribed") log.subscriptions.push(data.bus + ":" + data.name);
    else if (data.type === "error") log.errors.push(data.where + ": " + data.message);
    else if (data.type === "loaded") { log.renders = data.renders; resolve(window.sandboxes.length - 1); }
  };
  window.sandboxes.push({ worker, log });
  worker.postMessage(Object.assign({ type: "load", bundleUrl: "/pixel.js" }, load));
});
window.publish = (index, name, data) => window.sandboxes[index].worker.postMessage({ type: "publish", name, data });
window.consentCollected = (index, customerPrivacy) => window.sandboxes[index].worker.postMessage({ type: "consent", customerPrivacy });
window.sandboxLogs = () => window.sandboxes.map((sandbox) => sandbox.log);
</script>
</body></html>`;

function listen(handler: http.RequestListener): Promise<{ server: http.Server; origin: string }> {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, "127.0.0.1", () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

export async function startCheckoutServers(pixelBundle: string): Promise<CheckoutServers> {
  const worker = fs.readFileSync(WORKER_FILE, "utf8");
  const shop = await listen((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    const send = (type: string, body: string) => res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store" }).end(body);
    if (pathname === THANK_YOU_PATH) send("text/html; charset=utf-8", THANK_YOU_PAGE);
    else if (pathname === "/sandbox-worker.js") send("text/javascript", worker);
    else if (pathname === "/pixel.js") send("text/javascript", pixelBundle);
    else res.writeHead(404).end();
  });

  const appRequests: ReceivedRequest[] = [];
  const app = await listen((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      appRequests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      // What the app's endpoint is expected to answer: anyone may post, nobody gets credentials.
      const cors = { "Access-Control-Allow-Origin": "*" };
      if (req.method === "OPTIONS") res.writeHead(204, { ...cors, "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type" }).end();
      else if (req.method === "POST" && req.url === REPORT_PATH) res.writeHead(204, cors).end();
      else res.writeHead(404, cors).end();
    });
  });

  return {
    thankYouUrl: shop.origin + THANK_YOU_PATH,
    reportUrl: app.origin + REPORT_PATH,
    appRequests,
    close: async () => {
      await Promise.all(
        [shop.server, app.server].map((server) => {
          const closed = new Promise((resolve) => server.close(resolve));
          server.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}
