import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { TEST_ENV } from "../support/test-env";
import { embeddedAdminUrl } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import { DESKTOP_USER_AGENT as USER_AGENT, launchAdminBrowser, type AdminBrowser } from "../support/admin-browser";
import type { ProductionApp } from "../support/production-app";

/**
 * The embedded admin in a real browser: the production build served as `npm start` serves it, loaded the
 * way Shopify's admin loads it (/app?embedded=1&shop&host&id_token), with App Bridge's CDN
 * script blocked like every host but 127.0.0.1. Shopify's Admin API and Refersion are local
 * stand-ins; the database is this test file's own SQLite copy.
 */

const SCREENSHOTS = path.resolve("test-results/admin");
const SHOP = "browser-shop.myshopify.com";
const OTHER_SHOP = "browser-other.myshopify.com";
const KEYS = DEFAULT_SANDBOX_KEYS;
// The only host a page may try besides ours: App Bridge's script (blocked, and the page must cope).
const EXPECTED_BLOCKED_HOSTS = new Set(["cdn.shopify.com"]);

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { insertDelivery } = await import("../support/outbox");
const { acceptOrderWebhook } = await import("~/orders/intake.server");
const { orderFixture } = await import("../support/fixtures");

let server: ProductionApp;
let admin: AdminBrowser;
let page: Page;
const htmlSeen: string[] = [];

function appUrl(pathname: string): Promise<string> {
  return embeddedAdminUrl(SHOP, `${server.url}${pathname}`);
}

async function open(pathname: string) {
  const response = await admin.open(pathname);
  htmlSeen.push(await page.content());
  return response;
}

async function screenshot(name: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await harness.install(SHOP, { embed: "not_added", themeName: "Dawn" });
  await harness.install(OTHER_SHOP);
  server = await harness.startApp();
  admin = await launchAdminBrowser({ appUrl: server.url, shop: SHOP });
  page = admin.page;
}, 90_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
  if (server) fs.writeFileSync(path.join(SCREENSHOTS, "app-server.log"), server.output().join("\n"));
  await harness.close();
});


describe("embedded admin in Chromium", { timeout: 60_000 }, () => {
  it("renders the home page with the setup checklist, without App Bridge", async () => {
    const response = await open("/app");
    expect(response?.status()).toBe(200);
    await page.getByRole("heading", { name: "Setup" }).waitFor();
    expect(await page.getAttribute('[data-testid="step-keys"]', "data-state")).toBe("todo");
    expect(await page.getAttribute('[data-testid="step-embed"]', "data-state")).toBe("todo");
    const themeEditor = page.getByRole("link", { name: "Turn on in theme editor" });
    expect(await themeEditor.getAttribute("href")).toBe(
      `https://${SHOP}/admin/themes/current/editor?context=apps&template=index&activateAppId=${TEST_ENV.SHOPIFY_API_KEY}/refersion-tracking`,
    );
    expect(await themeEditor.getAttribute("target")).toBe("_top");
    // No deliveries yet: a sentence instead of an empty chart.
    await page.getByTestId("deliveries-chart-empty").getByText("No order was delivered or failed in the last 7 days").waitFor();
    expect(await page.getByTestId("deliveries-chart").count()).toBe(0);
    await screenshot("home-fresh");
  });

  it("sends Shopify's headers for embedded documents (addDocumentResponseHeaders)", async () => {
    for (const pathname of ["/app", "/app/settings", "/app/deliveries"]) {
      const response = await fetch(await appUrl(pathname), { headers: { "User-Agent": USER_AGENT } });
      htmlSeen.push(await response.text());
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("content-security-policy")).toContain(`frame-ancestors https://${SHOP} https://admin.shopify.com`);
      expect(response.headers.get("link")).toContain("https://cdn.shopify.com/shopifycloud/app-bridge.js");
    }
  });

  it("shows field errors for invalid input and sends nothing", async () => {
    await open("/app/settings");
    const posts: string[] = [];
    const onRequest = (request: { method(): string; url(): string }) => {
      if (request.method() === "POST") posts.push(request.url());
    };
    page.on("request", onRequest);
    await page.getByLabel("Public key").fill("not a key!");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("A Refersion key has only letters, digits, _ and -").waitFor();
    await page.getByText("Enter your Refersion secret key").waitFor();
    page.off("request", onRequest);
    expect(posts).toEqual([]);
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
    await screenshot("settings-errors");
  });

  it("saves valid keys, trimmed, then shows only that the secret is set and how many waiting orders were released", async () => {
    const order = { ...orderFixture("shopify-docs-order-1001-2026-07.json"), id: 5560001, admin_graphql_api_id: "gid://shopify/Order/5560001" };
    expect((await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: "w-5560001" })).outcome).toBe("waiting_for_keys");
    await page.getByLabel("Public key").fill(`  ${KEYS.publicKey}  `);
    await page.getByLabel("Secret key").fill(` ${KEYS.secretKey}`);
    await page.getByLabel("Forward test orders").check();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    // The toast's text; without App Bridge it shows inline.
    await page.getByText("Settings saved. 1 order waiting for your keys is now queued for Refersion").waitFor();
    await page.getByTestId("secret-key-status").waitFor();
    expect(await page.getByTestId("secret-key-status").textContent()).toBe(`Set, ending in ${KEYS.secretKey.slice(-4)}`);
    expect(await page.getByLabel("Public key").inputValue()).toBe(KEYS.publicKey);

    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(row).toMatchObject({ publicKey: KEYS.publicKey, forwardTestOrders: true, secretKeyLast4: KEYS.secretKey.slice(-4) });
    expect(harness.shopify.metafieldWrites(SHOP).at(-1)).toEqual([
      expect.objectContaining({ key: "public_key", value: KEYS.publicKey }),
      expect.objectContaining({ key: "forwarding_enabled", value: "true" }),
    ]);
    htmlSeen.push(await page.content());
    await screenshot("settings-saved");

    await open("/app/settings");
    await page.getByRole("button", { name: "Replace secret key" }).click();
    await page.getByLabel("New secret key").waitFor();
    await screenshot("settings-replace-secret");
  });

  it.each([
    ["ok", "valid", "Keys valid"],
    ["reject", "rejected", "Keys rejected"],
    ["plan_unavailable", "plan_unavailable", "API not available on your Refersion plan"],
    ["fail", "unreachable", "Refersion unreachable"],
  ] as const)("tests the connection when Refersion answers %s", async (mode, state, title) => {
    await open("/app/settings");
    harness.refersion.setBehavior({ mode }, "api");
    await page.getByRole("button", { name: "Test connection" }).click();
    const result = page.locator(`[data-testid="connection-result"][data-state="${state}"]`);
    await result.waitFor();
    await result.getByText(title).waitFor();
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).connectionStatus).toBe(state);
    htmlSeen.push(await page.content());
    await screenshot(`connection-${state}`);
    harness.refersion.setBehavior({ mode: "ok" });
  });

  it("disables Test connection while the keys have unsaved edits, and drops the last result once new keys are saved", async () => {
    await open("/app/settings");
    const testButton = page.getByRole("button", { name: "Test connection" });
    await testButton.click();
    await page.locator('[data-testid="connection-result"][data-state="valid"]').waitFor();
    await page.getByText("Tests the saved keys with Refersion's API.").waitFor();

    await page.getByRole("button", { name: "Replace secret key" }).click();
    await page.getByLabel("New secret key").fill("sec_sandbox_replacement_4321");
    await page.getByRole("button", { name: "Test connection", disabled: true }).waitFor();
    await page.getByText("Save your changes to the keys first: the test uses the saved keys.").waitFor();
    await screenshot("settings-unsaved-keys");

    // Saving tests the new keys at once, and their outcome replaces the old one beside the keys.
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator('[data-testid="connection-result"][data-state="rejected"]').waitFor();
    expect(await page.getByTestId("connection-result").innerText()).not.toContain("Keys valid");
    await page.getByTestId("connection-result").getByText("Checked just now").waitFor();
    await page.getByRole("button", { name: "Test connection", disabled: false }).waitFor();

    // The sandbox's keys again, for the tests below.
    await page.getByRole("button", { name: "Replace secret key" }).click();
    await page.getByLabel("New secret key").fill(KEYS.secretKey);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByTestId("secret-key-status").getByText(`Set, ending in ${KEYS.secretKey.slice(-4)}`).waitFor();
    htmlSeen.push(await page.content());
  });

  it("shows a finished setup, the last 7 days and the chart", async () => {
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.locator('[data-testid="connection-result"][data-state="valid"]').waitFor();
    harness.shopify.setShop(SHOP, { embed: "enabled" });
    const now = Date.now();
    for (let i = 0; i < 6; i += 1) await insertDelivery(SHOP, { status: "delivered", createdAt: new Date(now - (i % 4) * 86_400_000 - 60_000) });
    await insertDelivery(SHOP, { status: "failed", createdAt: new Date(now - 86_400_000) });
    await insertDelivery(SHOP, { status: "retrying", createdAt: new Date(now - 60_000) });

    await open("/app");
    // A finished guide is folded to one line; its steps show on request.
    await page.getByTestId("setup-guide").getByRole("button", { name: "Show steps" }).click();
    for (const step of ["keys", "connection", "embed", "pixel", "first_order"]) {
      expect(await page.getAttribute(`[data-testid="step-${step}"]`, "data-state")).toBe("done");
    }
    expect(await page.getByTestId("count-delivered").innerText()).toContain("6");
    expect(await page.getByTestId("count-failed").innerText()).toContain("1");
    const chart = page.getByTestId("deliveries-chart");
    expect(await chart.locator('rect[data-series="delivered"]').count()).toBe(7);
    const delivered = await chart.locator('rect[data-series="delivered"]').evaluateAll((rects) =>
      rects.reduce((sum, rect) => sum + Number(rect.getAttribute("data-value")), 0),
    );
    expect(delivered).toBe(6);
    await screenshot("home-ready");
  });

  it("lists deliveries, filters them and opens one", async () => {
    const failed = await insertDelivery(
      SHOP,
      { status: "failed", orderName: "#2042", reasonCode: "refersion_rejected", reasonDetail: "Refersion rejected the order (422)", lastStatusCode: 422, attempts: 1 },
      [{ startedAt: new Date(), durationMs: 87, statusCode: 422, outcome: "permanent", responseExcerpt: '{"errors":["items: must not be empty"]}' }],
    );
    await open("/app/deliveries");
    await page.getByRole("link", { name: "#2042" }).waitFor();
    // Eight inserted above, #2042, and the order released when the keys were saved.
    expect(await page.locator("tbody tr").count()).toBe(10);
    await screenshot("deliveries");

    await page.getByRole("tab", { name: /^Failed/ }).click();
    await page.waitForURL(/status=failed/);
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);
    await screenshot("deliveries-failed");

    await page.getByRole("link", { name: "#2042" }).click();
    await page.waitForURL(new RegExp(`/app/deliveries/${failed.id}`));
    await page.getByRole("heading", { name: "Attempts (1)" }).waitFor();
    const json = await page.getByTestId("request-json").textContent();
    expect(JSON.parse(json!)).toMatchObject({ order_id: failed.orderId, currency_code: "USD" });
    // The plain reason; Refersion's own words stay in the attempts and the technical details.
    await page.getByTestId("explanation").getByText("Refersion could not use the order's details.").waitFor();
    await page.getByText("items: must not be empty").waitFor();
    await page.locator("summary", { hasText: "JSON sent to Refersion" }).waitFor();
    await screenshot("delivery-detail");

    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByTestId("retry-result").getByText("Queued for another attempt").waitFor();
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: failed.id } })).status).toBe("pending");
    await screenshot("delivery-retried");

    const queued = await insertDelivery(SHOP, { status: "pending", orderName: "#2043" });
    await open(`/app/deliveries/${queued.id}`);
    await page.locator("summary", { hasText: "JSON to send to Refersion" }).waitFor();
    await page.getByText("No attempt yet.").waitFor();
  });

  it("says what an empty tab means", async () => {
    await open("/app/deliveries?status=skipped");
    await page.getByText("No skipped orders").waitFor();
    await screenshot("deliveries-empty-tab");
  });

  it("answers 404 for another shop's delivery", async () => {
    const theirs = await insertDelivery(OTHER_SHOP, { status: "failed", orderName: "#theirs" });
    admin.expectNotFound(`/app/deliveries/${theirs.id}`);
    const response = await open(`/app/deliveries/${theirs.id}`);
    expect(response?.status()).toBe(404);
    await page.getByText("Delivery not found").first().waitFor();
    expect(await page.content()).not.toContain("#theirs");
    await screenshot("delivery-other-shop");
    await page.getByRole("link", { name: "Delivery log" }).click();
    await page.waitForURL(/\/app\/deliveries\?/);
    await page.getByRole("heading", { name: "Delivery log" }).waitFor();
  });

  it("never showed the secret, never failed in the page, and called no one else", async () => {
    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    for (const html of htmlSeen) {
      expect(html).not.toContain(KEYS.secretKey);
      expect(html).not.toContain(row.secretKeyCiphertext!);
    }
    expect(admin.problems).toEqual([]);
    expect(admin.blocked.filter((url) => !EXPECTED_BLOCKED_HOSTS.has(new URL(url).hostname))).toEqual([]);
    expect(harness.shopify.unexpected()).toEqual([]);
  });
});
