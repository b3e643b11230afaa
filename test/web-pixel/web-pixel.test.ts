/**
 * The Refersion checkout pixel (extensions/refersion-checkout-pixel) as the Shopify CLI builds it,
 * run in real Chromium in a dedicated worker beside a Thank you page on 127.0.0.1, with the Web
 * Pixels API provided by test/web-pixel/sandbox-worker.js. Reports go to an app origin on another
 * port, so they are real cross-origin requests. Every host other than 127.0.0.1 is blocked.
 */
import fs from "node:fs";
import zlib from "node:zlib";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../../scripts/chromium";
import {
  CONSENT_GIVEN,
  PIXEL_DIR,
  PIXEL_TOML,
  REPORT_PATH,
  buildPixelWithCli,
  pixelInit,
  pixelManagerLoads,
  readPixelToml,
  settingsViolations,
  startCheckoutServers,
  type BuiltPixel,
  type CheckoutServers,
  type CustomerPrivacyDeclaration,
  type VisitorConsent,
} from "./pixel-sandbox";

const SHOP = "refersion-demo.myshopify.com";
const CHECKOUT_TOKEN = "b1946ac92492d2347c6235b4d2611184";
const ORDER_ID = "5550000000001";
/** Refersion's click record after a visit through ?rfsn=8908369.4f153d (as the storefront tests write it). */
const CLICK = { rfsn_v4_id: "click-8908369-4f153d", rfsn_v4_aid: "8908369", rfsn_v4_cs: "4f153d" };
/** The buyer's details in the event: none of them may reach the report. */
const BUYER = {
  email: "ada.lovelace@example.com",
  phone: "+16135551111",
  firstName: "Ada",
  lastName: "Lovelace",
  address1: "12 Analytical Engine Street",
  city: "Marylebone",
  zip: "NW1 5LR",
};
/** The pixel's own limit: a small fraction of the CLI's 128 KB. */
const BUNDLE_BUDGET_BYTES = 8 * 1024;
/** Time to let the sandbox finish anything it might still do before asserting that it did nothing. */
const SETTLE_MS = 300;

const address = {
  address1: BUYER.address1,
  address2: null,
  city: BUYER.city,
  country: "United Kingdom",
  countryCode: "GB",
  firstName: BUYER.firstName,
  lastName: BUYER.lastName,
  phone: BUYER.phone,
  province: null,
  provinceCode: null,
  zip: BUYER.zip,
};

/** event.data of checkout_completed, shaped as the Web Pixels API documents Checkout. */
function checkoutCompleted(order: { id: unknown } | null = { id: ORDER_ID }, token: unknown = CHECKOUT_TOKEN) {
  const money = (amount: number) => ({ amount, currencyCode: "USD" });
  return {
    checkout: {
      attributes: [],
      billingAddress: address,
      buyerAcceptsEmailMarketing: false,
      buyerAcceptsSmsMarketing: false,
      currencyCode: "USD",
      delivery: null,
      discountApplications: [],
      discountsAmount: money(0),
      email: BUYER.email,
      lineItems: [{ id: "1", quantity: 1, title: "Hat", finalLinePrice: money(25), discountAllocations: [], properties: [], sellingPlanAllocation: null }],
      localization: { country: { isoCode: "GB" }, language: { isoCode: "en" }, market: { id: "1", handle: "gb" } },
      order: order && { ...order, customer: { id: "7001", isFirstOrder: true } },
      phone: BUYER.phone,
      shippingAddress: address,
      shippingLine: { price: money(5) },
      smsMarketingPhone: null,
      subtotalPrice: money(25),
      token,
      totalPrice: money(30),
      totalTax: money(0),
      transactions: [{ amount: money(30), gateway: "shopify_payments", paymentMethod: { name: "Shop Pay", type: "wallet" } }],
    },
  };
}

let pixel: BuiltPixel;
let servers: CheckoutServers;
let browser: Browser;

beforeAll(async () => {
  pixel = await buildPixelWithCli();
  servers = await startCheckoutServers(pixel.code);
  browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await servers?.close();
});

interface SandboxLog {
  storage: { area: string; method: string; args: string[] }[];
  fetches: { url: string; init: Record<string, unknown> }[];
  fetchResults: { status?: number; error?: string }[];
  subscriptions: string[];
  errors: string[];
  renders: number | null;
}

interface ThankYouPage {
  context: BrowserContext;
  page: Page;
  /** Requests the browser tried to send anywhere but 127.0.0.1. */
  blocked: string[];
  pageErrors: string[];
}

const open: ThankYouPage[] = [];

afterEach(async () => {
  for (const { context } of open.splice(0)) await context.close();
  servers.appRequests.length = 0;
});

/** A Thank you page whose top frame holds `click` in localStorage, as Refersion's script left it. */
async function openThankYouPage(click: Record<string, string> | null = CLICK): Promise<ThankYouPage> {
  const context = await browser.newContext();
  // A cookie the app's origin would receive if the pixel sent credentials (cookies ignore ports).
  await context.addCookies([{ name: "app_session", value: "must-not-be-sent", domain: "127.0.0.1", path: "/" }]);
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    if (new URL(route.request().url()).hostname === "127.0.0.1") return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const store: ThankYouPage = { context, page, blocked, pageErrors: [] };
  page.on("pageerror", (error) => store.pageErrors.push(error.message));
  open.push(store);
  await page.goto(servers.thankYouUrl);
  if (click) await page.evaluate((values) => Object.entries(values).forEach(([key, value]) => localStorage.setItem(key, value)), click);
  return store;
}

interface LoadOptions {
  visitor?: VisitorConsent;
  /** The [customer_privacy] the pixel manager reads; by default the extension's own TOML. */
  declaration?: CustomerPrivacyDeclaration;
  settings?: Record<string, unknown>;
  shopDomain?: string;
  /** Whether the sandbox offers browser.sessionStorage. */
  sessionStorage?: boolean;
}

/**
 * What Shopify's pixel manager does on the page: loads the pixel in a new sandbox if the
 * visitor's consent covers the declaration. Returns the sandbox's index, or null when the
 * manager does not load the pixel.
 */
async function loadPixel({ page }: ThankYouPage, options: LoadOptions = {}): Promise<number | null> {
  const visitor = options.visitor ?? CONSENT_GIVEN;
  const declaration = options.declaration ?? readPixelToml().customer_privacy;
  if (!pixelManagerLoads(declaration, visitor)) return null;
  const settings = options.settings ?? { reportUrl: servers.reportUrl };
  const init = pixelInit({ shopDomain: options.shopDomain ?? SHOP, pageUrl: page.url(), consent: visitor });
  return page.evaluate((load) => (window as unknown as { startSandbox(load: unknown): Promise<number> }).startSandbox(load), {
    settings,
    init,
    sessionStorage: options.sessionStorage ?? true,
  });
}

const publish = (page: Page, index: number, name: string, data: unknown) =>
  page.evaluate(([i, n, d]) => (window as unknown as { publish(i: number, n: string, d: unknown): void }).publish(i, n, d), [index, name, data] as const);
const completeCheckout = (page: Page, index: number, data: unknown = checkoutCompleted()) => publish(page, index, "checkout_completed", data);
const sandboxLogs = (page: Page): Promise<SandboxLog[]> => page.evaluate(() => (window as unknown as { sandboxLogs(): SandboxLog[] }).sandboxLogs());
const clickReads = (log: SandboxLog) => log.storage.filter((call) => call.area === "localStorage" && call.method === "getItem").length;
const reports = () => servers.appRequests.filter((request) => request.method === "POST");
const poll = <T>(fn: () => T) => expect.poll(fn, { timeout: 10_000, interval: 25 });

/** Waits until the pixel has read the click record, then a little longer, and checks it sent nothing. */
async function expectNoReport(store: ThankYouPage, index = 0) {
  await poll(async () => clickReads((await sandboxLogs(store.page))[index])).toBeGreaterThanOrEqual(3);
  await store.page.waitForTimeout(SETTLE_MS);
  const log = (await sandboxLogs(store.page))[index];
  expect(log.fetches).toEqual([]);
  expect(servers.appRequests).toEqual([]);
}

function expectCleanRun(store: ThankYouPage, logs: SandboxLog[]) {
  for (const log of logs) expect(log.errors).toEqual([]);
  expect(store.pageErrors).toEqual([]);
  expect(store.blocked).toEqual([]);
}

describe("the extension's configuration", () => {
  const toml = readPixelToml();

  it("is a strict web pixel extension", () => {
    expect(toml.type).toBe("web_pixel_extension");
    expect(toml.runtime_context).toBe("strict");
  });

  it("declares marketing, and the sale of data, as what the pixel needs; not analytics or preferences (decision 0011)", () => {
    expect(toml.customer_privacy).toEqual({ analytics: false, marketing: true, preferences: false, sale_of_data: "enabled" });
  });

  it("has one setting, the report URL, whose validations accept the app's https endpoint and loopback only", () => {
    expect(toml.settings?.type).toBe("object");
    const fields = toml.settings!.fields;
    expect(Object.keys(fields)).toEqual(["reportUrl"]);
    expect(fields.reportUrl.type).toBe("single_line_text_field");
    for (const reportUrl of [
      "https://refersion-forwarder.example.com/pixel/checkout-completed",
      "https://app.example.com:8443/pixel/checkout-completed?v=1",
      "http://127.0.0.1:3000/pixel/checkout-completed",
      "http://localhost:3000/pixel/checkout-completed",
    ]) {
      expect(settingsViolations(fields, { reportUrl }), reportUrl).toEqual([]);
    }
    for (const reportUrl of [
      "",
      "http://app.example.com/pixel/checkout-completed",
      "https://user:secret@app.example.com/pixel",
      "https://app.example.com",
      "https://app.example.com/pixel checkout",
      "https://app.example.com/pixel#fragment",
      "javascript:alert(1)//",
      "//app.example.com/pixel",
      `https://app.example.com/${"x".repeat(500)}`,
    ]) {
      expect(settingsViolations(fields, { reportUrl }), reportUrl).not.toEqual([]);
    }
    expect(settingsViolations(fields, { reportUrl: servers.reportUrl, shop: SHOP })).toEqual(["shop: not a declared field"]);
  });

  it("depends on @shopify/web-pixels-extension in the range the root installs, so the CLI bundles it from the root's node_modules", () => {
    const extension = JSON.parse(fs.readFileSync(`${PIXEL_DIR}/package.json`, "utf8")) as { dependencies: Record<string, string> };
    const root = JSON.parse(fs.readFileSync("package.json", "utf8")) as { devDependencies: Record<string, string> };
    expect(Object.keys(extension.dependencies)).toEqual(["@shopify/web-pixels-extension"]);
    expect(extension.dependencies["@shopify/web-pixels-extension"]).toBe(root.devDependencies["@shopify/web-pixels-extension"]);
  });

  it(`is built offline by the project's Shopify CLI into one file under ${BUNDLE_BUDGET_BYTES} bytes`, () => {
    expect(pixel.log).toMatch(/refersion-checkout-pixel successfully built/);
    const gzipped = zlib.gzipSync(pixel.code, { level: 9 }).length;
    console.log(`web pixel bundle: ${pixel.bytes} B, ${gzipped} B gzipped (CLI limit 131072 B, budget ${BUNDLE_BUDGET_BYTES} B)`);
    expect(pixel.bytes).toBeLessThan(BUNDLE_BUDGET_BYTES);
    // The register call the sandbox provides, and nothing that needs a page.
    expect(pixel.code).toContain("WebPixel::Render");
    expect(pixel.code).not.toMatch(/(?<![\w$.])(document|window|localStorage|sessionStorage)\b/);
  });
});

describe("the pixel in a sandbox beside the Thank you page", () => {
  it("reports a completed checkout with a click record: one text/plain POST with keepalive, no credentials, no preflight, no personal data", async () => {
    const store = await openThankYouPage();
    const sandbox = await loadPixel(store);
    expect(sandbox).toBe(0);
    await completeCheckout(store.page, 0);

    await poll(() => reports().length).toBe(1);
    await store.page.waitForTimeout(SETTLE_MS);
    const [log] = await sandboxLogs(store.page);
    const expected = { shop: SHOP, orderId: ORDER_ID, checkoutToken: CHECKOUT_TOKEN, click: { id: CLICK.rfsn_v4_id, affiliateId: "8908369", cs: "4f153d" } };

    expect(log.renders).toBe(1);
    expect(log.subscriptions).toEqual(["customerPrivacy:visitorConsentCollected", "analytics:checkout_completed"]);
    expect(log.fetches).toHaveLength(1);
    expect(log.fetches[0].url).toBe(servers.reportUrl);
    expect(log.fetches[0].init).toEqual({
      method: "POST",
      keepalive: true,
      credentials: "omit",
      mode: null,
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(expected),
    });
    expect(log.fetchResults).toEqual([{ type: "fetch-done", status: 204 }]);

    // What reached the app: exactly one request, the POST itself.
    expect(servers.appRequests).toHaveLength(1);
    const [request] = servers.appRequests;
    expect(request.method).toBe("POST");
    expect(request.path).toBe(REPORT_PATH);
    expect(request.headers["content-type"]).toBe("text/plain");
    expect(request.headers.cookie).toBeUndefined();
    expect(request.headers.origin).toBe(new URL(servers.thankYouUrl).origin);
    expect(JSON.parse(request.body)).toEqual(expected);
    for (const value of Object.values(BUYER)) expect(request.body).not.toContain(value);
    expect(request.body).not.toContain("7001"); // the customer's id

    // The click record was read from the page's (top frame's) localStorage, and left there.
    expect(log.storage.filter((call) => call.area === "localStorage").map((call) => `${call.method} ${call.args.join(",")}`).sort()).toEqual(
      ["getItem rfsn_v4_aid", "getItem rfsn_v4_cs", "getItem rfsn_v4_id"],
    );
    expectCleanRun(store, [log]);
  });

  it("sends nothing without a click record", async () => {
    const store = await openThankYouPage(null);
    await loadPixel(store);
    await completeCheckout(store.page, 0);
    await expectNoReport(store);
    expectCleanRun(store, await sandboxLogs(store.page));
  });

  it.each([
    ["the checksum missing", { rfsn_v4_id: CLICK.rfsn_v4_id, rfsn_v4_aid: CLICK.rfsn_v4_aid }],
    ["the click id missing", { rfsn_v4_aid: CLICK.rfsn_v4_aid, rfsn_v4_cs: CLICK.rfsn_v4_cs }],
    ["an empty affiliate id", { ...CLICK, rfsn_v4_aid: "" }],
    ["an affiliate id that is not a number", { ...CLICK, rfsn_v4_aid: "89083a9" }],
    ["affiliate id 0", { ...CLICK, rfsn_v4_aid: "0" }],
    ["an affiliate id of 16 digits", { ...CLICK, rfsn_v4_aid: "1234567890123456" }],
    ["a JSON object for a click id", { ...CLICK, rfsn_v4_id: '{"id":"click-1"}' }],
    ["markup in the click id", { ...CLICK, rfsn_v4_id: "<img src=x onerror=alert(1)>" }],
    ["a click id of 129 characters", { ...CLICK, rfsn_v4_id: "c".repeat(129) }],
    ["an email address for a checksum", { ...CLICK, rfsn_v4_cs: BUYER.email }],
    ["a checksum of 65 characters", { ...CLICK, rfsn_v4_cs: "a".repeat(65) }],
  ])("sends nothing with a malformed click record: %s", async (_name, click) => {
    const store = await openThankYouPage(click);
    await loadPixel(store);
    await completeCheckout(store.page, 0);
    await expectNoReport(store);
    expectCleanRun(store, await sandboxLogs(store.page));
  });

  it.each([
    ["a number", 5550000000001, "5550000000001"],
    ["a digit string", "5550000000001", "5550000000001"],
    ["an OrderIdentity gid", "gid://shopify/OrderIdentity/5550000000001", "5550000000001"],
  ])("reports the order id given as %s as digits", async (_name, id, digits) => {
    const store = await openThankYouPage();
    await loadPixel(store);
    await completeCheckout(store.page, 0, checkoutCompleted({ id }));
    await poll(() => reports().length).toBe(1);
    expect(JSON.parse(reports()[0].body).orderId).toBe(digits);
    expectCleanRun(store, await sandboxLogs(store.page));
  });

  it.each([
    ["no order", null],
    ["a null order id", { id: null }],
    ["another kind of gid", { id: "gid://shopify/Customer/7001" }],
    ["a gid without digits", { id: "gid://shopify/OrderIdentity/abc" }],
    ["a fractional number", { id: 5550000000001.5 }],
    ["a number beyond 2^53", { id: 2 ** 53 + 2 }],
  ])("sends nothing for %s", async (_name, order) => {
    const store = await openThankYouPage();
    await loadPixel(store);
    await completeCheckout(store.page, 0, checkoutCompleted(order));
    await store.page.waitForTimeout(SETTLE_MS);
    const logs = await sandboxLogs(store.page);
    expect(logs[0].fetches).toEqual([]);
    expect(servers.appRequests).toEqual([]);
    expectCleanRun(store, logs);
  });

  describe("consent", () => {
    it("is not loaded by the pixel manager when the visitor declined marketing: no sandbox, no request", async () => {
      const store = await openThankYouPage();
      expect(await loadPixel(store, { visitor: { ...CONSENT_GIVEN, marketing: false } })).toBeNull();
      await store.page.waitForTimeout(SETTLE_MS);
      expect(await sandboxLogs(store.page)).toEqual([]);
      expect(servers.appRequests).toEqual([]);
    });

    it("is not loaded when the visitor opted out of the sale of data", async () => {
      const store = await openThankYouPage();
      expect(await loadPixel(store, { visitor: { ...CONSENT_GIVEN, saleOfData: false } })).toBeNull();
      expect(await sandboxLogs(store.page)).toEqual([]);
    });

    it("is loaded and reports when the visitor declined only analytics and preferences, which it does not declare", async () => {
      const store = await openThankYouPage();
      expect(await loadPixel(store, { visitor: { ...CONSENT_GIVEN, analytics: false, preferences: false } })).toBe(0);
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);
    });

    it("follows the TOML: requiring analytics there takes the pixel away from a visitor who declined analytics", async () => {
      const text = fs.readFileSync(PIXEL_TOML, "utf8");
      const withAnalytics = readPixelToml(text.replace(/^analytics = false$/m, "analytics = true")).customer_privacy;
      expect(withAnalytics).toMatchObject({ analytics: true, marketing: true });
      const declinesAnalytics = { ...CONSENT_GIVEN, analytics: false };

      const store = await openThankYouPage();
      expect(await loadPixel(store, { visitor: declinesAnalytics, declaration: withAnalytics })).toBeNull();
      expect(await loadPixel(store, { visitor: declinesAnalytics })).toBe(0); // the TOML as committed
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);
      expect(await sandboxLogs(store.page)).toHaveLength(1);
    });

    it("follows the TOML without marketing too, and the pixel then still refuses a visitor whose init data says marketing is declined", async () => {
      const text = fs.readFileSync(PIXEL_TOML, "utf8");
      const withoutMarketing = readPixelToml(text.replace(/^marketing = true$/m, "marketing = false")).customer_privacy;
      expect(withoutMarketing).toMatchObject({ marketing: false });
      const declinesMarketing = { ...CONSENT_GIVEN, marketing: false };

      const store = await openThankYouPage();
      expect(await loadPixel(store, { visitor: declinesMarketing })).toBeNull();
      expect(await loadPixel(store, { visitor: declinesMarketing, declaration: withoutMarketing })).toBe(0);
      await completeCheckout(store.page, 0);
      await store.page.waitForTimeout(SETTLE_MS);
      const logs = await sandboxLogs(store.page);
      expect(logs[0]).toMatchObject({ renders: 1, subscriptions: ["customerPrivacy:visitorConsentCollected", "analytics:checkout_completed"], fetches: [] });
      expect(servers.appRequests).toEqual([]);
      expectCleanRun(store, logs);
    });

    it("sends nothing once the visitor withdraws consent on the page, after the pixel was loaded", async () => {
      const store = await openThankYouPage();
      await loadPixel(store);
      await store.page.evaluate(() =>
        (window as unknown as { consentCollected(i: number, c: unknown): void }).consentCollected(0, {
          analyticsProcessingAllowed: true,
          marketingAllowed: false,
          preferencesProcessingAllowed: true,
          saleOfDataAllowed: true,
        }),
      );
      await completeCheckout(store.page, 0);
      await store.page.waitForTimeout(SETTLE_MS);
      const logs = await sandboxLogs(store.page);
      expect(logs[0].fetches).toEqual([]);
      expect(servers.appRequests).toEqual([]);
      expectCleanRun(store, logs);
    });
  });

  describe("at most one report per checkout", () => {
    it("when checkout_completed fires twice at once", async () => {
      const store = await openThankYouPage();
      await loadPixel(store);
      // Both in one task of the page: the second arrives while the first is still reading storage.
      await store.page.evaluate((data) => {
        const w = window as unknown as { publish(i: number, n: string, d: unknown): void };
        w.publish(0, "checkout_completed", data);
        w.publish(0, "checkout_completed", data);
      }, checkoutCompleted());
      await poll(() => reports().length).toBe(1);
      await store.page.waitForTimeout(SETTLE_MS);
      expect(reports()).toHaveLength(1);
      expectCleanRun(store, await sandboxLogs(store.page));
    });

    it("when the sandbox runs again in the same tab (a reloaded Thank you page): remembered in the top frame's sessionStorage", async () => {
      const store = await openThankYouPage();
      await loadPixel(store);
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);

      expect(await loadPixel(store)).toBe(1);
      await completeCheckout(store.page, 1);
      await poll(async () => (await sandboxLogs(store.page))[1].storage.length).toBeGreaterThan(0);
      await store.page.waitForTimeout(SETTLE_MS);
      expect(reports()).toHaveLength(1);
      expect(await store.page.evaluate(() => JSON.parse(sessionStorage.getItem("rfsn_pixel_reported") ?? "null"))).toEqual([CHECKOUT_TOKEN]);
      expectCleanRun(store, await sandboxLogs(store.page));
    });

    it("when fired twice in a sandbox without browser.sessionStorage", async () => {
      const store = await openThankYouPage();
      await loadPixel(store, { sessionStorage: false });
      await completeCheckout(store.page, 0);
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);
      await store.page.waitForTimeout(SETTLE_MS);
      expect(reports()).toHaveLength(1);
      const logs = await sandboxLogs(store.page);
      expect(logs[0].storage.filter((call) => call.area === "sessionStorage")).toEqual([]);
      expectCleanRun(store, logs);
    });

    it("while each checkout is reported once: a second checkout in the same tab is reported too", async () => {
      const store = await openThankYouPage();
      await loadPixel(store);
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);
      await completeCheckout(store.page, 0, checkoutCompleted({ id: "5550000000002" }, "c0ffee00c0ffee00c0ffee00c0ffee00"));
      await poll(() => reports().length).toBe(2);
      expect(reports().map((request) => JSON.parse(request.body).orderId)).toEqual([ORDER_ID, "5550000000002"]);
    });

    it("keyed by the order id when the event has no checkout token", async () => {
      const store = await openThankYouPage();
      await loadPixel(store);
      await completeCheckout(store.page, 0, checkoutCompleted({ id: ORDER_ID }, null));
      await completeCheckout(store.page, 0, checkoutCompleted({ id: ORDER_ID }, null));
      await poll(() => reports().length).toBe(1);
      await store.page.waitForTimeout(SETTLE_MS);
      expect(reports()).toHaveLength(1);
      expect(JSON.parse(reports()[0].body)).toMatchObject({ orderId: ORDER_ID, checkoutToken: null });
    });
  });

  describe("set up wrongly or failing", () => {
    it.each([
      ["no report URL", {}],
      ["a plain http report URL to another host", { reportUrl: "http://app.example.com/pixel/checkout-completed" }],
      ["a report URL that is no URL", { reportUrl: "app.example.com" }],
    ])("subscribes to nothing with %s", async (_name, settings) => {
      const store = await openThankYouPage();
      expect(settingsViolations(readPixelToml().settings!.fields, settings)).not.toEqual([]); // webPixelCreate would refuse these too
      await loadPixel(store, { settings });
      await completeCheckout(store.page, 0);
      await store.page.waitForTimeout(SETTLE_MS);
      const logs = await sandboxLogs(store.page);
      expect(logs[0]).toMatchObject({ renders: 1, subscriptions: [], fetches: [], storage: [] });
      expectCleanRun(store, logs);
    });

    it("subscribes to nothing when the init data's shop is not a myshopify.com domain", async () => {
      const store = await openThankYouPage();
      await loadPixel(store, { shopDomain: "shop.example.com" });
      const logs = await sandboxLogs(store.page);
      expect(logs[0]).toMatchObject({ renders: 1, subscriptions: [] });
    });

    it("sends nothing and throws nothing when the top frame's localStorage fails", async () => {
      const store = await openThankYouPage();
      await store.page.evaluate(() => ((window as unknown as { failStorage: Record<string, boolean> }).failStorage.localStorage = true));
      await loadPixel(store);
      await completeCheckout(store.page, 0);
      await expectNoReport(store);
      expectCleanRun(store, await sandboxLogs(store.page));
    });

    it("still reports when the top frame's sessionStorage fails", async () => {
      const store = await openThankYouPage();
      await store.page.evaluate(() => ((window as unknown as { failStorage: Record<string, boolean> }).failStorage.sessionStorage = true));
      await loadPixel(store);
      await completeCheckout(store.page, 0);
      await completeCheckout(store.page, 0);
      await poll(() => reports().length).toBe(1);
      await store.page.waitForTimeout(SETTLE_MS);
      expect(reports()).toHaveLength(1);
      expectCleanRun(store, await sandboxLogs(store.page));
    });

    it("throws nothing when the app's endpoint cannot be reached", async () => {
      const store = await openThankYouPage();
      await loadPixel(store, { settings: { reportUrl: "http://127.0.0.1:9/pixel/checkout-completed" } });
      await completeCheckout(store.page, 0);
      await poll(async () => (await sandboxLogs(store.page))[0].fetchResults.length).toBe(1);
      await store.page.waitForTimeout(SETTLE_MS);
      const logs = await sandboxLogs(store.page);
      expect(logs[0].fetches).toHaveLength(1);
      expect(logs[0].fetchResults[0].error).toMatch(/fetch/i);
      expectCleanRun(store, logs);
    });

    it.each([
      ["no checkout", {}],
      ["a null event body", null],
      ["a checkout that is a string", { checkout: "checkout" }],
    ])("throws nothing for an event with %s", async (_name, data) => {
      const store = await openThankYouPage();
      await loadPixel(store);
      await completeCheckout(store.page, 0, data);
      await store.page.waitForTimeout(SETTLE_MS);
      const logs = await sandboxLogs(store.page);
      expect(logs[0].fetches).toEqual([]);
      expectCleanRun(store, logs);
    });
  });
});
