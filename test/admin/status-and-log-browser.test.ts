import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { startAdminHarness } from "../support/admin-harness";
import { launchAdminBrowser, type AdminBrowser } from "../support/admin-browser";
import type { ProductionApp } from "../support/production-app";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";

/**
 * What a merchant reads on Home, the delivery log, a delivery and an unknown address, in
 * Chromium on the production build, at a desktop width and a phone's (390 px): the words a
 * merchant needs, no page error, and nothing scrolling sideways.
 */

const SHOP = "journey-shop.myshopify.com";
const SCREENSHOTS = path.resolve("test-results/admin");
const WIDTHS = [
  { name: "1280", viewport: { width: 1280, height: 900 } },
  { name: "390", viewport: { width: 390, height: 844 } },
] as const;

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { insertDelivery, configureShop } = await import("../support/outbox");

let server: ProductionApp;
const browsers: AdminBrowser[] = [];

async function noSidewaysScroll(page: Page, label: string) {
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(widths.scroll, `${label} scrolls sideways`).toBeLessThanOrEqual(widths.client);
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `journey-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await harness.install(SHOP, { embed: "not_added", themeName: "Dawn", ianaTimezone: "America/New_York" });
  server = await harness.startApp();
}, 90_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await server?.stop();
  await harness.close();
});

describe.each(WIDTHS)("Home, the log, a delivery and a 404 at $name px", { timeout: 60_000 }, ({ name, viewport }) => {
  let admin: AdminBrowser;
  let page: Page;

  beforeAll(async () => {
    await prisma.delivery.deleteMany({ where: { shop: SHOP } });
    await prisma.shopSettings.deleteMany({ where: { shop: SHOP } });
    harness.shopify.setShop(SHOP, { embed: "not_added" });
    admin = await launchAdminBrowser({ appUrl: server.url, shop: SHOP, viewport });
    browsers.push(admin);
    page = admin.page;
  });

  afterAll(() => {
    expect(admin.problems).toEqual([]);
    expect(admin.blocked.filter((url) => new URL(url).hostname !== "cdn.shopify.com")).toEqual([]);
  });

  it("first open: not live, what the app and Refersion are, the setup guide", async () => {
    expect((await admin.open("/app"))?.status()).toBe(200);
    await page.getByTestId("tracking-status").getByText("Tracking is not live").waitFor();
    await page.getByText("Not live because your Refersion keys are not saved.").waitFor();
    await page.getByText(/Refersion is the affiliate platform where you run your affiliate program/).waitFor();
    expect(await page.getByTestId("setup-guide").getAttribute("data-complete")).toBe("no");
    await noSidewaysScroll(page, "home (fresh)");
    await screenshot(page, `home-status-fresh-${name}`);
  });

  it("orders needing attention: a banner for each, linking where to act", async () => {
    await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
    await insertDelivery(SHOP, {
      status: "failed",
      orderName: "#3001",
      reasonCode: "refersion_rejected",
      reasonDetail: "Refersion answered 401",
      lastStatusCode: 401,
      attempts: 1,
    });
    await insertDelivery(SHOP, { status: "retrying", orderName: "#3002", reasonCode: "refersion_unavailable", lastStatusCode: 503, firstAttemptAt: new Date(), attempts: 1 });
    await admin.open("/app");
    await page.getByTestId("attention-failed").getByText("1 order failed").waitFor();
    await page.getByTestId("attention-retrying").getByText("1 order waiting for another try").waitFor();
    await page.getByTestId("attention-embed_off").getByText("Orders are arriving while tracking is off in your theme").waitFor();
    expect(await page.getByTestId("metric-attention").innerText()).toContain("2");
    await noSidewaysScroll(page, "home (attention)");
    await screenshot(page, `home-attention-${name}`);

    await page.getByTestId("attention-failed").getByRole("link", { name: "Review failed orders" }).click();
    await page.waitForURL(/\/app\/deliveries\?.*status=failed/);
    await page.getByText("Refersion did not accept your keys.").waitFor();
  });

  it("the log: search by order number, the plain reason, Retry all failed twice", async () => {
    await admin.open("/app/deliveries");
    await page.getByRole("link", { name: "#3001" }).waitFor();
    // No raw code as the reason; Refersion's words stay on the delivery's page.
    // (On a phone the table becomes Polaris' list of rows: the panel holds either.)
    expect(await page.locator("#deliveries-panel").innerText()).not.toContain("Refersion answered 401");
    await noSidewaysScroll(page, "delivery log");
    await screenshot(page, `log-${name}`);

    await page.getByRole("button", { name: "Search and filter orders" }).click();
    await page.getByPlaceholder("Search by order number").fill("#3002");
    // The "#" is sent as typed; the server reads the number without it.
    await page.waitForURL(/q=(%23)?3002/);
    await page.getByRole("link", { name: "#3001" }).waitFor({ state: "detached" });
    await page.getByRole("link", { name: "#3002" }).waitFor();
    await page.getByText("Refersion had a problem on its side.").first().waitFor();
    await page.getByText("Page 1 of 1 · 1 order", { exact: true }).waitFor();
    await noSidewaysScroll(page, "delivery log (search)");
    await screenshot(page, `log-search-${name}`);

    await admin.open("/app/deliveries");
    await page.getByRole("button", { name: "Retry all failed (1)" }).click();
    await page.getByTestId("retry-all-result").getByText("1 failed order queued for another attempt.").waitFor();
    const failed = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderName: "#3001" } });
    expect(failed.status).toBe("pending");
    // Nothing failed any more: the button is gone, and the action asked again queues nothing.
    await page.getByRole("button", { name: /Retry all failed/ }).waitFor({ state: "detached" });
  });

  it("a failed delivery: what happened, the next step, the summary, the order in Shopify", async () => {
    const row = await insertDelivery(
      SHOP,
      { status: "failed", orderName: "#3003", orderId: "5550003", reasonCode: "refersion_rejected", reasonDetail: "Refersion answered 422", lastStatusCode: 422, attempts: 1 },
      [{ startedAt: new Date(), durationMs: 90, statusCode: 422, outcome: "permanent", responseExcerpt: '{"errors":["items: must not be empty"]}' }],
    );
    await admin.open(`/app/deliveries/${row.id}`);
    const explanation = page.getByTestId("explanation");
    await explanation.getByText("Refersion could not use the order's details.").waitFor();
    await explanation.getByText(/The app does not send it again by itself/).waitFor();
    await explanation.getByText(/What to do: Check the order in Shopify/).waitFor();
    // The raw words are folded away until asked for.
    expect(await explanation.getByText(/Refersion answered 422/).isVisible()).toBe(false);
    await explanation.locator("summary", { hasText: "Technical details" }).click();
    await explanation.getByText(/Refersion answered 422/).waitFor();

    const summary = page.getByTestId("order-summary");
    await summary.getByText("2 × Socks").waitFor();
    await summary.getByText("Click data: yes").waitFor();
    // The order's page in Shopify's admin, from the summary (and the page's actions, folded on a phone).
    for (const link of [summary.getByRole("link", { name: "Open in Shopify" }), ...(name === "1280" ? [page.getByRole("link", { name: "View order in Shopify" })] : [])]) {
      expect(await link.getAttribute("href")).toBe(`https://${SHOP}/admin/orders/5550003`);
      expect(await link.getAttribute("target")).toBe("_top");
    }
    // The attempts: a table on a desktop, one block per attempt on a phone (no time squeezed into a narrow column).
    const attempts = page.getByTestId("attempts");
    await page.locator(`[data-testid="attempts"][data-layout="${name === "390" ? "list" : "table"}"]`).waitFor();
    expect(await attempts.locator("table").count()).toBe(name === "390" ? 0 : 1);
    await attempts.getByText("Failed (HTTP 422)", { exact: false }).waitFor();
    // The JSON is folded below the summary.
    expect(await page.getByTestId("request-json").isVisible()).toBe(false);
    await noSidewaysScroll(page, "delivery detail");
    await screenshot(page, `delivery-explained-${name}`);
  });

  it("a delivered order is resent only after a confirmation about the commission", async () => {
    const row = await insertDelivery(SHOP, { status: "delivered", orderName: "#3004", deliveredAt: new Date(), lastStatusCode: 200, attempts: 1 });
    await admin.open(`/app/deliveries/${row.id}`);
    await page.getByTestId("explanation").getByText("Refersion received this order.").waitFor();
    // Resend is a secondary action; on a phone Polaris folds the page's actions under one button.
    const more = page.getByRole("button", { name: "View actions" });
    if (await more.isVisible()) await more.click();
    await page.getByRole("button", { name: "Resend" }).click();
    const confirmation = page.getByTestId("resend-confirmation");
    await confirmation.getByText(/credit the affiliate's commission a second time/).waitFor();
    await noSidewaysScroll(page, "resend confirmation");
    await screenshot(page, `delivery-resend-confirm-${name}`);
    await confirmation.getByRole("button", { name: "Cancel" }).click();
    await confirmation.waitFor({ state: "detached" });
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("delivered");

    if (await more.isVisible()) await more.click();
    await page.getByRole("button", { name: "Resend" }).click();
    await page.getByTestId("resend-confirmation").getByRole("button", { name: "Resend anyway" }).click();
    await page.getByTestId("retry-result").getByText("Queued to be sent to Refersion again.").waitFor();
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("pending");
  });

  it("an unknown address: a 404 page of the app, with the way home", async () => {
    admin.expectNotFound("/app/no-such-page");
    const response = await admin.open("/app/no-such-page");
    expect(response?.status()).toBe(404);
    await page.getByTestId("not-found").getByText("This page does not exist in the app.", { exact: false }).waitFor();
    await noSidewaysScroll(page, "404");
    await screenshot(page, `not-found-${name}`);
    await page.getByRole("link", { name: "Go to the app's home" }).click();
    await page.waitForURL(/\/app\?/);
    await page.getByTestId("tracking-status").waitFor();
  });

  it("a working setup: live, this week's orders and value, the guide folded, then dismissed for good", async () => {
    await prisma.delivery.deleteMany({ where: { shop: SHOP } });
    harness.shopify.setShop(SHOP, { embed: "enabled" });
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { connectionStatus: "valid", connectionCheckedAt: new Date() } });
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "40.00", currency: "USD", deliveredAt: new Date() });
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "2.50", currency: "USD", deliveredAt: new Date() });
    const { syncCheckoutPixel } = await import("~/attribution/web-pixel.server");
    const { offlineAccess } = await import("~/shopify.server");
    await syncCheckoutPixel(SHOP, offlineAccess.graphqlFor(SHOP), true);

    await admin.open("/app");
    await page.getByTestId("tracking-status").getByText("Tracking is live").waitFor();
    expect(await page.getByTestId("metric-sent").innerText()).toContain("2");
    expect(await page.getByTestId("metric-value").innerText()).toContain("$42.50");
    await page.getByText("Delivered means Refersion received the order.", { exact: false }).waitFor();
    await page.getByText("America/New_York", { exact: false }).waitFor();
    const guide = page.getByTestId("setup-guide");
    expect(await guide.getAttribute("data-complete")).toBe("yes");
    await guide.getByRole("button", { name: "Show steps" }).waitFor();
    await noSidewaysScroll(page, "home (live)");
    await screenshot(page, `home-live-${name}`);

    await guide.getByRole("button", { name: "Dismiss the setup guide" }).click();
    await guide.waitFor({ state: "detached" });
    await admin.open("/app");
    await page.getByTestId("tracking-status").waitFor();
    expect(await page.getByTestId("setup-guide").count()).toBe(0);
  });
});
