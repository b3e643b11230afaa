/**
 * The Refersion tracking app embed in real Chromium against a fake storefront on 127.0.0.1.
 * Every other host is blocked; Refersion's CDN script is answered by a local stand-in.
 */
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { test } from "vitest";
import { parseOrderJson } from "../../app/refersion/shopify-order";
import { orderFixtureText } from "../support/fixtures";
import { configureLifecycleShop, sendWebhook, useLifecycleHarness, withOrderId } from "../support/order-lifecycle";
import { CHROMIUM_LAUNCH_OPTIONS } from "../../scripts/chromium";
import {
  REFERSION_SCRIPT_URL,
  assetUrl,
  blockJavascriptAsset,
  renderEmbed,
  routeStorefront,
  startFakeStorefront,
  type FakeStorefront,
  type RefersionStubOptions,
  type StorefrontOptions,
} from "../../scripts/fake-storefront";

const CLICK = "?rfsn=8908369.4f153d"; // an affiliate link: affiliate 8908369, checksum 4f153d
const ARTIFACTS = path.resolve("test-results/storefront");
/** Time to let a page finish anything it might still do before asserting that it did nothing. */
const SETTLE_MS = 400;

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
});
afterAll(async () => {
  await browser?.close();
});

interface Store {
  storefront: FakeStorefront;
  context: BrowserContext;
  page: Page;
  traffic: Awaited<ReturnType<typeof routeStorefront>>;
  /** Uncaught page errors and console errors. */
  errors: string[];
  /** Everything the page logged to the console. */
  logs: string[];
  /** Requests the browser made to the fake storefront, as "METHOD /path". */
  seen: string[];
}

async function newStore(options: StorefrontOptions, refersion: RefersionStubOptions): Promise<Store> {
  const storefront = await startFakeStorefront(options);
  const context = await browser.newContext();
  const traffic = await routeStorefront(context, refersion);
  const page = await context.newPage();
  const store: Store = { storefront, context, page, traffic, errors: [], logs: [], seen: [] };
  page.on("pageerror", (error) => store.errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    store.logs.push(message.text());
    if (message.type() === "error") store.errors.push(`console.error: ${message.text()}`);
  });
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin === storefront.origin) store.seen.push(`${request.method()} ${url.pathname}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { refersionLoadedEvents: number };
    w.refersionLoadedEvents = 0;
    document.addEventListener("refersion-loaded", () => (w.refersionLoadedEvents += 1));
  });
  return store;
}

type OpenStore = (options?: StorefrontOptions, refersion?: RefersionStubOptions) => Promise<Store>;
type Poll = <T>(fn: () => T | Promise<T>) => ReturnType<typeof expect.poll<T>>;

/**
 * Each test opens its stores through its own `openStore`, closed when that test ends (with a
 * screenshot when it failed): the tests of a describe.concurrent run side by side, each with
 * its own storefront and browser context, so one's waits overlap another's.
 */
const it = test.extend<{ openStore: OpenStore; poll: Poll }>({
  openStore: async ({ task }, use) => {
    const stores: Store[] = [];
    await use(async (options = {}, refersion = {}) => {
      const store = await newStore(options, refersion);
      stores.push(store);
      return store;
    });
    for (const store of stores) {
      if (task.result?.state === "fail") {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const name = task.name.replace(/[^\w-]+/g, "_").slice(0, 80);
        await store.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }).catch(() => {});
      }
      await store.context.close();
      await store.storefront.close();
    }
  },
  // expect.poll with room for a loaded machine (the default gives up after 1 s), from the test's
  // own expect: concurrent tests must not use the global one.
  poll: async ({ expect }, use) => {
    await use((fn) => expect.poll(fn, { timeout: 10_000, interval: 25 }));
  },
});

/**
 * Records the event types any script registers on document or window from now on (the fake
 * theme registers its listeners on its buttons only).
 */
async function recordPageListeners(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { pageListeners: string[] };
    w.pageListeners = [];
    const add = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (this: EventTarget, ...args: Parameters<EventTarget["addEventListener"]>) {
      if (this === document || this === window) w.pageListeners.push(args[0]);
      return add.apply(this, args);
    };
  });
}

const settle = (page: Page) => page.waitForTimeout(SETTLE_MS);
const reports = (s: FakeStorefront) => s.refersionCalls.filter((c) => c.method === "sendCheckoutEvent");
const attributeWrites = (s: FakeStorefront) => s.requests.filter((r) => r.method === "POST" && r.path === "/cart/update.js");
const cartReads = (s: FakeStorefront) => s.requests.filter((r) => r.path === "/cart.js").length;
const launches = (s: FakeStorefront) => s.refersionCalls.filter((c) => c.method === "launchDefault").length;
/** The (token, click) pairs the script remembers as reported. */
const sentPairs = (page: Page): Promise<string[]> => page.evaluate(() => JSON.parse(localStorage.getItem("rfsn_shopify_sent") || "[]"));
/** A cart call the way a theme makes it, awaited in the page. */
const themeFetch = (page: Page, path: string, body: unknown = {}) =>
  page.evaluate(
    ([url, json]) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: json }).then((res) => res.json()),
    [path, JSON.stringify(body)] as const,
  );
const themeXhr = (page: Page, path: string, body: unknown = {}) =>
  page.evaluate(
    ([url, json]) =>
      new Promise<unknown>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        xhr.setRequestHeader("Content-Type", "application/json");
        xhr.onload = () => resolve(JSON.parse(xhr.responseText));
        xhr.onerror = () => reject(new Error(`XHR ${url} failed`));
        xhr.send(json);
      }),
    [path, JSON.stringify(body)] as const,
  );
const CLICK_ID = "click-8908369-4f153d";

/** Fails on anything that went wrong in the page or tried to leave 127.0.0.1. */
function expectCleanRun(store: Store, allowedErrors: RegExp[] = []) {
  expect(store.errors.filter((e) => !allowedErrors.some((pattern) => pattern.test(e)))).toEqual([]);
  expect(store.traffic.blocked).toEqual([]);
}

async function expectNothingLoaded(store: Store) {
  await settle(store.page);
  expect(store.traffic.refersionScriptRequests).toBe(0);
  expect(store.storefront.refersionCalls).toEqual([]);
  expect(store.seen).not.toContain("GET /cart.js");
  expect(attributeWrites(store.storefront)).toEqual([]);
}

describe.concurrent("rendering the app embed", () => {
  it("names its script in the schema and renders only the JSON config when a public key is set and forwarding is on", async () => {
    // Shopify includes the schema's "javascript" file itself; the Liquid must not load it again.
    expect(blockJavascriptAsset()).toBe("refersion-tracking.js");
    const html = await renderEmbed({ publicKey: "pub_abc123", forwardingEnabled: true });
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toEqual(['<script type="application/json" id="refersion-tracking-config">']);
    const config = JSON.parse(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/.exec(html)![1]);
    // The merchant's default: no tracking where the Customer Privacy API is unavailable; debug off.
    expect(config).toEqual({ publicKey: "pub_abc123", withoutConsentApi: "dont_track", debug: false });
  });

  it.for([
    ["no public key metafield", { publicKey: null, forwardingEnabled: true }],
    ["a blank public key", { publicKey: "   ", forwardingEnabled: true }],
    ["forwarding turned off", { publicKey: "pub_abc123", forwardingEnabled: false }],
    ["no forwarding metafield", { publicKey: "pub_abc123", forwardingEnabled: null }],
  ] as const)("renders nothing with %s; its script then loads and does nothing", async ([, metafields], { openStore }) => {
    expect(await renderEmbed(metafields)).toBe("");

    const store = await openStore({ ...metafields });
    await recordPageListeners(store.page);
    await store.page.goto(store.storefront.url("/" + CLICK));
    // The embed is on, so Shopify still includes the script; being deferred, it has run by "load".
    expect(store.seen).toEqual(["GET /", `GET ${assetUrl("refersion-tracking.js")}`]);
    await expectNothingLoaded(store);
    expect(await store.page.locator("#refersion-tracking-config").count()).toBe(0);
    const page = await store.page.evaluate(() => {
      const w = window as unknown as { pageListeners: string[]; loadFeaturesCalls: number; TrackingSystemObject?: string };
      return {
        fetch: window.fetch.toString(),
        xhrOpen: XMLHttpRequest.prototype.open.toString(),
        listeners: w.pageListeners,
        loadFeaturesCalls: w.loadFeaturesCalls,
        trackingSystemObject: w.TrackingSystemObject,
        storage: localStorage.length,
      };
    });
    expect(page.fetch).toMatch(/^function fetch\(\) \{\s*\[native code\]\s*\}$/);
    expect(page.xhrOpen).toMatch(/^function open\(\) \{\s*\[native code\]\s*\}$/);
    expect(page.listeners).toEqual([]);
    expect(page.loadFeaturesCalls).toBe(0);
    expect(page.trackingSystemObject).toBeUndefined();
    expect(page.storage).toBe(0);
    await settle(store.page);
    expect(store.storefront.requests.map((r) => r.path)).toEqual(["/" + CLICK, assetUrl("refersion-tracking.js")]);
    expect(store.seen).toHaveLength(2);
    expectCleanRun(store);
  });
});

describe.concurrent("reporting the cart", () => {
  it("loads Refersion with the public key and reports the cart token without its key", async ({ openStore, poll }) => {
    const store = await openStore();
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);

    const [init, launch] = storefront.refersionCalls;
    expect(init).toMatchObject({ method: "initializeXDLS", pubKey: "pub_test_1234567890", settings: { fp_off: true } });
    expect(init.settings).not.toHaveProperty("dbg_mode");
    expect(launch.method).toBe("launchDefault");
    expect(await page.evaluate(() => (window as unknown as { TrackingSystemObject: string }).TrackingSystemObject)).toBe("r");
    expect(await page.evaluate(() => (window as unknown as { refersionLoadedEvents: number }).refersionLoadedEvents)).toBe(1);

    const [cartId, clickId, url, aid, cs] = reports(storefront)[0].args as string[];
    expect(cartId).toBe(storefront.cart.token);
    expect(cartId).not.toContain("?");
    expect(cartId).not.toContain(storefront.cart.key);
    expect(clickId).toBe("click-8908369-4f153d");
    expect(url).toBe(storefront.url("/" + CLICK));
    expect([aid, cs]).toEqual(["8908369", "4f153d"]);
    expect(store.traffic.refersionScriptRequests).toBe(1);
    expect(store.seen.filter((s) => s.includes("/assets/"))).toEqual([`GET ${assetUrl("refersion-tracking.js")}`]);
    expectCleanRun(store);
  });

  it("reports each (cart token, click) pair once: a reload sends nothing again", async ({ openStore, poll }) => {
    const store = await openStore();
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    const readsBefore = cartReads(storefront);

    await page.reload();
    await poll(() => storefront.refersionCalls.filter((c) => c.method === "launchDefault").length).toBe(2);
    await poll(() => cartReads(storefront)).toBeGreaterThan(readsBefore);
    await settle(page);
    await page.goto(storefront.url("/products/linen-shirt"));
    await poll(() => storefront.refersionCalls.filter((c) => c.method === "launchDefault").length).toBe(3);
    await settle(page);

    expect(reports(storefront)).toHaveLength(1);
    expectCleanRun(store);
  });

  it("does not report an empty cart (its token is not stable yet)", async ({ openStore, poll }) => {
    const store = await openStore({ initialItems: 0 });
    await store.page.goto(store.storefront.url("/" + CLICK));
    await poll(() => cartReads(store.storefront)).toBeGreaterThan(0);
    await settle(store.page);
    expect(store.storefront.refersionCalls.map((c) => c.method)).toEqual(["initializeXDLS", "launchDefault"]);
    expect(attributeWrites(store.storefront)).toEqual([]);
    expectCleanRun(store);
  });

  it("sends no report without click data (a visit that came from no affiliate)", async ({ openStore, poll }) => {
    const store = await openStore();
    await store.page.goto(store.storefront.url("/"));
    await poll(() => cartReads(store.storefront)).toBeGreaterThan(0);
    await settle(store.page);
    expect(reports(store.storefront)).toEqual([]);
    expect(attributeWrites(store.storefront)).toEqual([]);
    expectCleanRun(store);
  });

  it.for([
    ["the affiliate id and checksum", { rfsn_v4_id: CLICK_ID }],
    ["the checksum", { rfsn_v4_id: CLICK_ID, rfsn_v4_aid: "8908369" }],
    ["the affiliate id", { rfsn_v4_id: CLICK_ID, rfsn_v4_cs: "4f153d" }],
  ] as const)("sends no report and writes no attributes when click data lacks %s", async ([, clickData], { openStore, poll }) => {
    const store = await openStore();
    await store.page.addInitScript((data) => {
      for (const [key, value] of Object.entries(data)) localStorage.setItem(key, value);
    }, clickData as Record<string, string>);
    await store.page.goto(store.storefront.url("/"));
    await poll(() => cartReads(store.storefront)).toBeGreaterThan(0);
    await settle(store.page);
    expect(launches(store.storefront)).toBe(1);
    expect(reports(store.storefront)).toEqual([]);
    expect(attributeWrites(store.storefront)).toEqual([]);
    expectCleanRun(store);
  });

  it("reports the first token once the page adds the first item (fetch), leaving the theme's response intact", async ({ openStore, poll }) => {
    const store = await openStore({ initialItems: 0 });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => cartReads(storefront)).toBeGreaterThan(0);
    await settle(page);
    expect(reports(storefront)).toEqual([]);

    await page.click("#add-fetch");
    await poll(() => reports(storefront).length).toBe(1);
    expect(reports(storefront)[0].args[0]).toBe(storefront.cart.token);
    expect(await page.evaluate(() => (window as unknown as { lastAdded: unknown }).lastAdded)).toMatchObject({ id: 1, quantity: 1 });
    expectCleanRun(store);
  });

  it("reports again when the token changes after /cart/add.js (fetch and XMLHttpRequest)", async ({ openStore, poll }) => {
    const store = await openStore({ rotateTokenOnChange: true });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    const first = storefront.cart.token;

    await page.click("#add-fetch");
    await poll(() => reports(storefront).length).toBe(2);
    const second = storefront.cart.token;
    expect(second).not.toBe(first);
    expect(reports(storefront)[1].args[0]).toBe(second);

    await page.click("#add-xhr");
    await poll(() => reports(storefront).length).toBe(3);
    expect(reports(storefront)[2].args[0]).toBe(storefront.cart.token);
    expect(await page.evaluate(() => (window as unknown as { lastAdded: unknown }).lastAdded)).toMatchObject({ id: 2 });

    expect(new Set(reports(storefront).map((c) => c.args[0])).size).toBe(3);
    await poll(() => storefront.cart.attributes._rfsn_cart).toBe(storefront.cart.token);
    expectCleanRun(store);
  });

  it("reports again when the token changes after /cart/change.js (fetch and XMLHttpRequest)", async ({ openStore, poll }) => {
    const store = await openStore({ rotateTokenOnChange: true });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);

    expect(await themeFetch(page, "/cart/change.js", { line: 1, quantity: 2 })).toMatchObject({ item_count: 2 });
    await poll(() => reports(storefront).length).toBe(2);
    expect(reports(storefront)[1].args[0]).toBe(storefront.cart.token);

    expect(await themeXhr(page, "/cart/change.js", { line: 1, quantity: 3 })).toMatchObject({ item_count: 3 });
    await poll(() => reports(storefront).length).toBe(3);
    expect(reports(storefront)[2].args[0]).toBe(storefront.cart.token);

    expect(new Set(reports(storefront).map((c) => c.args[0])).size).toBe(3);
    await poll(() => storefront.cart.attributes._rfsn_cart).toBe(storefront.cart.token);
    expectCleanRun(store);
  });

  it.for(["throws", "rejects"] as const)(
    "remembers a pair as sent only after Refersion took it: when sendCheckoutEvent %s, the next check reports it again",
    async (failure, { openStore, poll }) => {
      const store = await openStore({ settings: { debug: true } }, { firstCheckoutEvent: failure });
      const { storefront, page } = store;
      await page.goto(storefront.url("/" + CLICK));
      await poll(() => reports(storefront).length).toBe(1);
      // The script logs the failure (debug mode) once it has handled it.
      await poll(() => store.logs.some((l) => l.includes("stand-in: sendCheckoutEvent failed"))).toBe(true);
      expect(await sentPairs(page)).toEqual([]);

      await themeFetch(page, "/cart/change.js"); // a theme cart call that leaves the token as it is
      await poll(() => reports(storefront).length).toBe(2);
      expect(reports(storefront)[1].args).toEqual(reports(storefront)[0].args);
      await poll(() => sentPairs(page)).toEqual([`${storefront.cart.token} ${CLICK_ID}`]);

      const reads = cartReads(storefront);
      await themeFetch(page, "/cart/change.js");
      await poll(() => cartReads(storefront)).toBeGreaterThan(reads);
      await settle(page);
      expect(reports(storefront)).toHaveLength(2);
      expectCleanRun(store);
    },
  );

  it("while Refersion has not yet answered a report, neither remembers the pair nor sends it again", async ({ openStore, poll }) => {
    const store = await openStore({}, { firstCheckoutEvent: "pending" });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    await poll(() => page.evaluate(() => typeof (window as unknown as { resolveCheckoutEvent?: unknown }).resolveCheckoutEvent)).toBe("function");

    const reads = cartReads(storefront);
    await themeFetch(page, "/cart/change.js");
    await poll(() => cartReads(storefront)).toBeGreaterThan(reads);
    await settle(page);
    expect(reports(storefront)).toHaveLength(1);
    expect(await sentPairs(page)).toEqual([]);

    await page.evaluate(() => (window as unknown as { resolveCheckoutEvent(): void }).resolveCheckoutEvent());
    await poll(() => sentPairs(page)).toEqual([`${storefront.cart.token} ${CLICK_ID}`]);
    expect(reports(storefront)).toHaveLength(1);
    expectCleanRun(store);
  });

  it.for(["rejects", "hangs"] as const)(
    "does not report before Refersion has started (launchDefault %s), but still writes the cart attributes",
    async (launch, { openStore, poll }) => {
      const store = await openStore({}, { launchDefault: launch });
      const { storefront, page } = store;
      await page.goto(storefront.url("/" + CLICK));
      await poll(() => launches(storefront)).toBe(1);
      // A theme cart call: a check runs even while launchDefault has not settled.
      await themeFetch(page, "/cart/change.js");
      await poll(() => storefront.cart.attributes).toEqual({ _rfsn_cart: storefront.cart.token, _rfsn_aid: "8908369" });
      await settle(page);
      expect(reports(storefront)).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { refersionLoadedEvents: number }).refersionLoadedEvents)).toBe(0);
      expectCleanRun(store);
    },
  );

  it("re-checks the cart before the buyer leaves for checkout", async ({ openStore, poll }) => {
    const store = await openStore({ initialItems: 0, checkoutDelayMs: 1500 });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => cartReads(storefront)).toBeGreaterThan(0);
    await settle(page);
    storefront.addItem(); // changed outside this page, e.g. in another tab

    await page.click("#checkout-link", { noWaitAfter: true });
    await poll(() => reports(storefront).length).toBe(1);
    expect(reports(storefront)[0].args[0]).toBe(storefront.cart.token);
    await page.waitForURL("**/checkout");
    expectCleanRun(store);
  });

  it("re-checks the cart when the cart form is submitted to checkout", async ({ openStore, poll }) => {
    const store = await openStore({ initialItems: 0, checkoutDelayMs: 1500 });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => cartReads(storefront)).toBeGreaterThan(0);
    await settle(page);
    storefront.addItem();

    await page.click("#checkout-button", { noWaitAfter: true });
    await poll(() => reports(storefront).length).toBe(1);
    await page.waitForURL("**/checkout");
    expectCleanRun(store);
  });

  it("writes the hidden cart attributes once per token", async ({ openStore, poll }) => {
    const store = await openStore();
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => attributeWrites(storefront).length).toBe(1);
    expect(JSON.parse(attributeWrites(storefront)[0].body)).toEqual({
      attributes: { _rfsn_cart: storefront.cart.token, _rfsn_aid: "8908369" },
    });
    expect(storefront.cart.attributes).toEqual({ _rfsn_cart: storefront.cart.token, _rfsn_aid: "8908369" });

    // Cart calls by the theme and new page views must not write them again (nor loop on our own update).
    await page.evaluate(() => fetch("/cart/change.js", { method: "POST", body: "{}" }));
    await page.evaluate(() => fetch("/cart/update.js", { method: "POST", body: JSON.stringify({ note: "gift" }) }));
    await page.reload();
    await poll(() => storefront.refersionCalls.filter((c) => c.method === "launchDefault").length).toBe(2);
    await settle(page);
    expect(attributeWrites(storefront).filter((r) => r.body.includes("_rfsn_cart"))).toHaveLength(1);
    expect(cartReads(storefront)).toBeLessThanOrEqual(5);
    expectCleanRun(store);
  });

  it("causes no page error when /cart.js fails", async ({ openStore, poll }) => {
    const store = await openStore({ cartStatus: 500 });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => cartReads(storefront)).toBeGreaterThan(0);
    await page.click("#add-fetch");
    await poll(() => cartReads(storefront)).toBeGreaterThan(1);
    await settle(page);
    expect(reports(storefront)).toEqual([]);
    // Chromium itself logs the failed response; the script adds nothing.
    expectCleanRun(store, [/Failed to load resource: the server responded with a status of 500/]);
    expect(store.logs.filter((l) => l.includes("refersion-tracking"))).toEqual([]);
  });

  it("logs only in debug mode, and turns on Refersion's debug mode there", async ({ openStore, poll }) => {
    const quiet = await openStore();
    await quiet.page.goto(quiet.storefront.url("/" + CLICK));
    await poll(() => reports(quiet.storefront).length).toBe(1);
    expect(quiet.logs).toEqual([]);

    const debug = await openStore({ settings: { debug: true } });
    await debug.page.goto(debug.storefront.url("/" + CLICK));
    await poll(() => reports(debug.storefront).length).toBe(1);
    expect(debug.storefront.refersionCalls[0].settings).toMatchObject({ fp_off: true, dbg_mode: true });
    expect(debug.logs.some((l) => l.startsWith("[refersion-tracking]"))).toBe(true);
    expectCleanRun(quiet);
    expectCleanRun(debug);
  });
});

describe.concurrent("consent", () => {
  it("reports where consent was given earlier", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "granted" });
    await store.page.goto(store.storefront.url("/" + CLICK));
    await poll(() => reports(store.storefront).length).toBe(1);
    expectCleanRun(store);
  });

  it("never loads Refersion where consent was declined", async ({ openStore }) => {
    const store = await openStore({ consent: "denied" });
    await store.page.goto(store.storefront.url("/" + CLICK));
    await expectNothingLoaded(store);
    expect(await store.page.evaluate(() => localStorage.length)).toBe(0);
    expectCleanRun(store);
  });

  it("waits for the visitor's choice and loads Refersion once marketing consent is collected", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "pending" });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await expectNothingLoaded(store);

    await page.evaluate(() => (window as unknown as { giveConsent(marketing: boolean): void }).giveConsent(true));
    await poll(() => reports(storefront).length).toBe(1);
    expect(reports(storefront)[0].args[0]).toBe(storefront.cart.token);
    expect(store.traffic.refersionScriptRequests).toBe(1);
    expectCleanRun(store);
  });

  it("stays off when the visitor declines in the banner", async ({ openStore }) => {
    const store = await openStore({ consent: "pending" });
    await store.page.goto(store.storefront.url("/" + CLICK));
    await store.page.evaluate(() => (window as unknown as { giveConsent(marketing: boolean): void }).giveConsent(false));
    await expectNothingLoaded(store);
    expectCleanRun(store);
  });

  it.for([
    ["absent", "dont_track", false],
    ["absent", "track", true],
    ["load-error", "dont_track", false],
    ["load-error", "track", true],
  ] as const)("follows the merchant's setting where the Customer Privacy API is %s (%s)", async ([consent, setting, tracks], { openStore, poll }) => {
    const store = await openStore({ consent, settings: { without_consent_api: setting } });
    await store.page.goto(store.storefront.url("/" + CLICK));
    if (tracks) {
      await poll(() => reports(store.storefront).length).toBe(1);
    } else {
      await expectNothingLoaded(store);
    }
    expectCleanRun(store);
  });
  it("falls back to the merchant's setting when the Customer Privacy API never answers (track)", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "never-answers", settings: { without_consent_api: "track" } });
    await store.page.goto(store.storefront.url("/" + CLICK));
    await poll(() => reports(store.storefront).length).toBe(1);
    expect(await store.page.evaluate(() => (window as unknown as { loadFeaturesCalls: number }).loadFeaturesCalls)).toBe(1);
    expectCleanRun(store);
  });

  it("falls back to the merchant's setting when the Customer Privacy API never answers (don't track)", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "never-answers", settings: { without_consent_api: "dont_track", debug: true } });
    await store.page.goto(store.storefront.url("/" + CLICK));
    // The script logs its decision in debug mode; without the fallback it would never decide.
    await poll(() => store.logs).toContain("[refersion-tracking] marketing consent false");
    await expectNothingLoaded(store);
    expectCleanRun(store);
  });

  it("stops reporting when the visitor withdraws consent in the banner", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "granted", rotateTokenOnChange: true });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    await poll(() => attributeWrites(storefront).length).toBe(1);

    await page.evaluate(() => (window as unknown as { giveConsent(marketing: boolean): void }).giveConsent(false));
    await themeFetch(page, "/cart/add.js", { id: 3, quantity: 1 });
    await settle(page);
    expect(reports(storefront)).toHaveLength(1);
    expect(attributeWrites(storefront)).toHaveLength(1);
    expectCleanRun(store);
  });

  it("asks the Customer Privacy API again before each report (consent withdrawn without an event)", async ({ openStore, poll }) => {
    const store = await openStore({ consent: "granted", rotateTokenOnChange: true });
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    await poll(() => attributeWrites(storefront).length).toBe(1);

    await page.evaluate(() => {
      const privacy = (window as unknown as { Shopify: { customerPrivacy: { marketingAllowed(): boolean } } }).Shopify.customerPrivacy;
      privacy.marketingAllowed = () => false;
    });
    const reads = cartReads(storefront);
    await themeFetch(page, "/cart/add.js", { id: 3, quantity: 1 });
    await poll(() => cartReads(storefront)).toBeGreaterThan(reads);
    await settle(page);
    expect(reports(storefront)).toHaveLength(1);
    expect(attributeWrites(storefront)).toHaveLength(1);
    expectCleanRun(store);
  });
});

describe("from the storefront to Refersion's order webhook", () => {
  /** A real order with a c1- cart token (an online store checkout). */
  const ORDER_FIXTURE = "real-eur-ch-order-2672-digital-no-shipping-c1-cart-token-2023.json";
  const SHOP = "storefront-to-refersion.myshopify.com";
  // The app's own webhook route, outbox and worker, in this process, and a Refersion stand-in.
  const lifecycle = useLifecycleHarness();

  it("sends the reported token as cart_id, whether the order carries the cart token or only the hidden cart attributes", async ({ openStore, poll }) => {
    await configureLifecycleShop(SHOP, { autoCreditAffiliate: true });
    const store = await openStore();
    const { storefront, page } = store;
    await page.goto(storefront.url("/" + CLICK));
    await poll(() => reports(storefront).length).toBe(1);
    await poll(() => attributeWrites(storefront).length).toBe(1);
    const reported = reports(storefront)[0].args[0];
    // The token as the shop hands it out, key included: what Shopify puts in the order's cart_token.
    const rawToken: string = await page.evaluate(() => fetch("/cart.js").then((res) => res.json()).then((cart) => cart.token));
    expect(rawToken).toMatch(/^c1-[0-9a-f]+\?key=[0-9a-f]+$/);

    // (a) An online store checkout: the order carries the cart token.
    const withToken = { ...withOrderId(parseOrderJson(orderFixtureText(ORDER_FIXTURE)) as Record<string, unknown>, 9_100_001), cart_token: rawToken };
    // (b) An order without a cart token: Shopify copies the cart attributes to note_attributes.
    const fixture = withOrderId(parseOrderJson(orderFixtureText(ORDER_FIXTURE)) as Record<string, unknown>, 9_100_002);
    const withoutToken = {
      ...fixture,
      cart_token: null,
      note_attributes: [
        ...((fixture.note_attributes as unknown[]) ?? []),
        ...Object.entries(storefront.cart.attributes).map(([name, value]) => ({ name, value })),
      ],
    };
    for (const order of [withToken, withoutToken]) {
      expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
    }
    await lifecycle.worker().drain();

    const received = lifecycle.sandbox.orders().map((request) => request.body as { order_id: string; cart_id: string; auto_credit_affiliate_id?: number });
    expect(received.map((body) => [body.order_id, body.cart_id])).toEqual([
      ["9100001", reported],
      ["9100002", reported],
    ]);
    expect(received[1].auto_credit_affiliate_id).toBe(Number(reports(storefront)[0].args[3]));
    expectCleanRun(store);
  });
});

describe.concurrent("the fake storefront itself", () => {
  it("includes the schema's javascript asset deferred on every page while the embed is on, configured or not", async () => {
    const tag = `<script src="${assetUrl(blockJavascriptAsset()!)}" defer></script>`;
    for (const options of [{}, { publicKey: null }, { forwardingEnabled: false }] as StorefrontOptions[]) {
      const storefront = await startFakeStorefront(options);
      try {
        const html = await storefront.renderPage();
        expect(html.split(tag)).toHaveLength(2);
        expect(html.match(/<script\b[^>]*\bsrc=/g)).toHaveLength(1);
        expect(html.includes('id="refersion-tracking-config"')).toBe(options.publicKey !== null && options.forwardingEnabled !== false);
      } finally {
        await storefront.close();
      }
    }
  });

  it("serves a baseline page without the embed (neither its script nor its Liquid) for measurements", async ({ openStore }) => {
    const store = await openStore({ embed: false });
    expect(await store.storefront.renderPage()).not.toMatch(/\/assets\/|refersion-tracking/);
    await store.page.goto(store.storefront.url("/" + CLICK));
    await expectNothingLoaded(store);
    expect(store.seen).toEqual(["GET /"]);
    expect(REFERSION_SCRIPT_URL).toMatch(/^https:\/\/cdn\.refersion\.com\//);
    expectCleanRun(store);
  });
});
