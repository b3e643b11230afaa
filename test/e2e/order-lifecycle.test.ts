import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import prisma from "~/db.server";
import { CHROMIUM_LAUNCH_OPTIONS } from "../../scripts/chromium";
import { startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { accessTokenFor, embeddedQuery, storeOfflineSession } from "../support/admin-session";
import { orderFixture } from "../support/fixtures";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { startShopifyAdminStandin, type ShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";
import { mapOrderToConversion } from "~/refersion/mapping";
import { getShopSettings, mappingOptionsFor } from "~/settings/shop-settings.server";
import { configureLifecycleShop } from "../support/order-lifecycle";
import { pastOrders } from "../support/past-orders";

/**
 * The order lifecycle on the production build, run as `npm start` runs it (server/app-server.mjs, the
 * delivery worker and the backfill runner in the server process): signed webhooks over HTTP,
 * reversals and resent orders reaching the Refersion stand-in, and the "resend past orders" page
 * in Chromium. The server shares this file's SQLite database; its fetch for *.myshopify.com
 * goes to the Admin API stand-in.
 */

if (!fs.existsSync(CHROMIUM_LAUNCH_OPTIONS.executablePath)) throw new Error(`${CHROMIUM_LAUNCH_OPTIONS.executablePath} is missing: apt-get install -y chromium`);
const SHOP = "production-lifecycle.myshopify.com";
const SCREENSHOTS = path.resolve("test-results/order-lifecycle");

let sandbox: RefersionSandbox;
let standin: ShopifyAdminStandin;
let app: ProductionApp;

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  standin = await startShopifyAdminStandin({ appEnv: TEST_ENV, bucket: { maximumAvailable: 2_000, restoreRate: 100_000 } });
  await storeOfflineSession(SHOP);
  await configureLifecycleShop(SHOP);
  app = await startProductionApp({
    DATABASE_URL: process.env.DATABASE_URL!,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
  }, { shopifyAdminStandinUrl: standin.url });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
  await standin?.close();
});

function post(topic: string, payload: unknown, shop = SHOP) {
  const body = JSON.stringify(payload);
  return fetch(`${app.url}/webhooks/${topic}`, {
    method: "POST",
    headers: webhookHeaders({ topic, shop, body, secret: TEST_ENV.SHOPIFY_API_SECRET }),
    body,
  });
}

const cancels = () => sandbox.received.filter((r) => r.endpoint === "conversion_cancel" && r.accepted).map((r) => r.body);

describe("the order lifecycle on the production build", () => {
  it("forwards an order once, then reverses its refund and its cancellation item by item, in that order", async () => {
    const order = orderFixture("shopify-docs-order-1001-2026-07.json");
    expect((await post("orders/create", order)).status).toBe(200);
    expect((await post("orders/paid", { ...order, financial_status: "paid" })).status).toBe(200);
    await sandbox.waitFor((received) => received.some((r) => r.endpoint === "order" && r.accepted), 20_000);

    expect((await post("refunds/create", (order.refunds as unknown[])[0])).status).toBe(200);
    await sandbox.waitFor(() => cancels().length === 1, 20_000);
    expect((await post("orders/cancelled", { ...order, cancelled_at: "2026-11-21T10:00:00-05:00" })).status).toBe(200);
    await sandbox.waitFor(() => cancels().length === 2, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(sandbox.orders()).toHaveLength(1);
    expect(cancels()).toEqual([
      {
        order_id: "450789469",
        items: [
          { sku: "IPOD2008BLACK", quantity: 1, price: 199 },
          { sku: "IPOD2008GREEN", quantity: 1, price: 199 },
        ],
      },
      { order_id: "450789469", items: [{ sku: "IPOD2008RED", quantity: 1, price: 199 }] },
    ]);
    expect(sandbox.received.filter((r) => !r.accepted)).toEqual([]);
  }, 60_000);

  it("with the paid trigger and the buyer's currency: a subscription order waits for orders/paid, then goes out once, in the buyer's currency, marked as a subscription", async () => {
    const shop = "production-paid-trigger.myshopify.com";
    await configureLifecycleShop(shop, { forwardTrigger: "paid", currency: "presentment" });
    // The AUD shop's order paid in USD, created by a subscription contract.
    const order: Record<string, unknown> = {
      ...orderFixture("real-aud-shop-usd-presentment-order-1029-2020.json"),
      financial_status: "pending",
      source_name: "subscription_contract_checkout_one",
    };
    const orderId = String(order.id);
    const sentFor = () => sandbox.orders().filter((request) => request.orderId === orderId);

    expect((await post("orders/create", order, shop)).status).toBe(200);
    // The worker polls every 100 ms: well past a poll, nothing went out.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sentFor()).toEqual([]);
    expect(await prisma.delivery.findFirst({ where: { shop, orderId, kind: "order" } })).toMatchObject({ status: "waiting_for_payment" });

    const paid = { ...order, financial_status: "paid" };
    const answers = await Promise.all([post("orders/paid", paid, shop), post("orders/paid", paid, shop)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await sandbox.waitFor(() => sentFor().length === 1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(sentFor()).toHaveLength(1);
    const expected = mapOrderToConversion(paid, mappingOptionsFor(await getShopSettings(shop)));
    expect(expected.ok).toBe(true);
    expect(sentFor()[0].body).toEqual(JSON.parse(JSON.stringify(expected.ok ? expected.conversion : null)));
    expect(sentFor()[0].body).toMatchObject({ currency_code: "USD", is_subscription: true });
    expect(await prisma.delivery.count({ where: { shop, orderId } })).toBe(1);
  }, 60_000);

  describe("resend past orders in Chromium", () => {
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
      // Shopify's library turns away bots (HeadlessChrome among them) with 410: look like a browser.
      const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
      const context = await browser.newContext({ userAgent, viewport: { width: 1280, height: 900 } });
      // Only the app itself: App Bridge's script (cdn.shopify.com) is blocked, as in the admin tests.
      await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("blockedbyclient")));
      page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on("pageerror", (error) => problems.push(error.message));
    }, 60_000);
    afterAll(() => browser?.close());

    it("starts a job, shows its progress as it runs (also after a reload), and the orders reach Refersion once", async () => {
      // Three full pages and a partial one (ORDERS_PAGE_SIZE = 50), each taking about 2 s to read;
      // the job saves its progress after every order, the page polls every second.
      const orders = pastOrders(160, { start: "2026-11-01T06:00:00Z", firstId: 9_800_000 });
      standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: orders.map((order) => order.graphql) });
      standin.setBucket({ orderDelayMs: 40 });
      const url = `${app.url}/app/backfill?${embeddedQuery(SHOP)}`;
      expect((await page.goto(url, { waitUntil: "networkidle" }))?.status()).toBe(200);
      await page.getByLabel("From").fill("2026-11-01");
      await page.getByLabel("To").fill("2026-11-10");
      await page.getByRole("button", { name: "Resend orders" }).click();

      // The bar moves while the page stays open: it polls the server every second. Watch it
      // until it has shown two values between 0 and 100, or the job is over.
      const progress = page.getByTestId("backfill-progress");
      const midway = new Set<number>();
      await progress.waitFor();
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      while (midway.size < 2 && (await progress.getAttribute("data-status")) !== "done") {
        const percent = Number(await progress.getAttribute("data-percent"));
        if (percent > 0 && percent < 100 && !midway.has(percent)) {
          midway.add(percent);
          if (midway.size === 1) await page.screenshot({ path: path.join(SCREENSHOTS, "backfill-running.png"), fullPage: true });
        }
        await page.waitForTimeout(100);
      }
      expect(midway.size, "progress values seen between 0 and 100").toBeGreaterThanOrEqual(1);
      // A reload shows the same job, from the database.
      await page.reload({ waitUntil: "networkidle" });
      await progress.waitFor();
      await page.locator('[data-testid="backfill-progress"][data-status="done"]').waitFor({ timeout: 30_000 });
      await page.getByText("160 of 160 orders read, 160 orders queued for Refersion.").waitFor();
      await page.screenshot({ path: path.join(SCREENSHOTS, "backfill-done.png"), fullPage: true });
      expect(await page.getByRole("button", { name: "Resend orders" }).isEnabled()).toBe(true);

      const resent = new Set(orders.map((order) => String(order.rest.id)));
      const sent = () => sandbox.orders().map((r) => (r.body as { order_id: string }).order_id).filter((id) => resent.has(id));
      await sandbox.waitFor(() => sent().length >= resent.size, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sent().sort()).toEqual([...resent].sort());
      expect(await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done", processed: 160, enqueued: 160 });
      expect(problems).toEqual([]);
    }, 90_000);
  });
});
