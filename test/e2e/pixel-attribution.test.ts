/**
 * The checkout pixel's path on the production build: the merchant saves the settings (the app
 * creates the pixel through the Admin API stand-in), Shopify's order webhooks and the pixel's
 * reports arrive over HTTP, and the Refersion stand-in shows what was sent. A Buy it now order (a
 * real fixture without its cart token) is credited to the click's affiliate whether the report
 * comes before or after the webhook; an order whose report never comes is sent, uncredited, when
 * its shop's wait (here 1 minute, the shortest) ends; reports that may not change an order change
 * nothing.
 */
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { startAdminHarness } from "../support/admin-harness";
import { mintSessionToken } from "../support/admin-session";
import { orderFixture } from "../support/fixtures";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");

const SHOP = "e2e-pixel.myshopify.com";
const OTHER_SHOP = "e2e-pixel-other.myshopify.com";
const CLICK = { id: "click-8908369-4f153d", affiliateId: "8908369", cs: "4f153d" };
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

let app: ProductionApp;

/** A Buy it now order: a real order's checkout, no cart token, its own id. */
function buyItNow(id: number): Record<string, unknown> {
  return { ...orderFixture("real-aud-order-1027-gst-taxes-included-bank-deposit-2016.json"), id, cart_token: null, checkout_token: `chk-${id}` };
}

/** An order of OTHER_SHOP (wait 1 minute) whose report never comes, posted first: its minute runs during the other tests. */
const NEVER_REPORTED = buyItNow(7_300_100);

const reportFor = (order: Record<string, unknown>, shop = SHOP) => ({ shop, orderId: String(order.id), checkoutToken: String(order.checkout_token), click: CLICK });

function postReport(body: unknown, init: RequestInit = {}) {
  return fetch(`${app.url}/pixel/checkout-completed`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", Origin: `https://${SHOP}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

function postOrder(order: Record<string, unknown>, shop = SHOP) {
  const body = JSON.stringify(order);
  return fetch(`${app.url}/webhooks/orders/create`, {
    method: "POST",
    headers: webhookHeaders({ topic: "orders/create", shop, body, secret: TEST_ENV.SHOPIFY_API_SECRET }),
    body,
  });
}

/** The merchant saves the settings in the embedded admin (a session token, as App Bridge sends it). */
async function saveSettings(shop: string, clickDataWaitMinutes = 5) {
  const form = new URLSearchParams({
    intent: "save",
    publicKey: DEFAULT_SANDBOX_KEYS.publicKey,
    secretKey: DEFAULT_SANDBOX_KEYS.secretKey,
    forwardingEnabled: "true",
    currency: "shop",
    forwardTestOrders: "true",
    sendCustomerDetails: "true",
    autoCreditAffiliate: "false",
    clickDataWaitMinutes: String(clickDataWaitMinutes),
  });
  const answer = await fetch(`${app.url}/app/settings?_data=${encodeURIComponent("routes/app.settings")}`, {
    method: "POST",
    headers: { "User-Agent": BROWSER, Authorization: `Bearer ${mintSessionToken(shop)}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  expect(answer.status).toBe(200);
}

const sentFor = (order: Record<string, unknown>) => harness.refersion.orders().filter((request) => (request.body as { order_id: string }).order_id === String(order.id));
const rowOf = (order: Record<string, unknown>, shop = SHOP) =>
  prisma.delivery.findUnique({ where: { shop_orderId_kind: { shop, orderId: String(order.id), kind: "order" } } });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await harness.install(SHOP, { webPixel: null });
  await harness.install(OTHER_SHOP, { webPixel: null });
  app = await startProductionApp(
    {
      DATABASE_URL: process.env.DATABASE_URL!,
      REFERSION_WEBHOOK_URL: harness.refersion.webhookUrl,
      REFERSION_API_URL: harness.refersion.apiUrl,
      DELIVERY_POLL_MS: "100",
      LOG_LEVEL: "warn",
    },
    { shopifyAdminStandinUrl: harness.shopify.url },
  );
  await saveSettings(SHOP);
  await saveSettings(OTHER_SHOP, 1);
  expect((await postOrder(NEVER_REPORTED, OTHER_SHOP)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await harness.close();
});

describe("the checkout pixel on the production build", () => {
  it("is created for the shop when its settings are saved, reporting to this app", async () => {
    const pixel = harness.shopify.webPixelOf(SHOP);
    expect(pixel && JSON.parse(pixel.settings)).toEqual({ reportUrl: `${TEST_ENV.SHOPIFY_APP_URL}/pixel/checkout-completed` });
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toMatchObject({ pixelStatus: "connected", clickDataWaitMinutes: 5 });
  });

  it("a Buy it now order waits for click data, then goes out with the click's affiliate once the report comes", async () => {
    const order = buyItNow(7_300_001);
    expect((await postOrder(order)).status).toBe(200);
    // Acknowledged at once, recorded by the app's background work just after.
    for (let tries = 0; !(await rowOf(order)) && tries < 100; tries += 1) await pause(100);
    await pause(1_000);
    expect(sentFor(order)).toEqual([]);
    expect(await rowOf(order)).toMatchObject({ status: "pending", reasonCode: "awaiting_click_data" });

    const answer = await postReport(reportFor(order));
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    await harness.refersion.waitFor(() => sentFor(order).length === 1, 20_000);
    expect(sentFor(order)[0].body).toMatchObject({ order_id: "7300001", auto_credit_affiliate_id: 8908369, cart_id: expect.stringMatching(/^ord-[0-9a-f]{40}$/) });
    // The attempt is recorded just after Refersion answered.
    for (let tries = 0; (await rowOf(order))?.status !== "delivered" && tries < 100; tries += 1) await pause(100);
    expect(await rowOf(order)).toMatchObject({ status: "delivered", attributionSource: "pixel" });
  }, 60_000);

  it("a report that comes before the webhook credits the order without a wait", async () => {
    const order = buyItNow(7_300_002);
    expect((await postReport(reportFor(order))).status).toBe(204);
    expect((await postOrder(order)).status).toBe(200);
    await harness.refersion.waitFor(() => sentFor(order).length === 1, 20_000);
    expect(sentFor(order)[0].body).toMatchObject({ auto_credit_affiliate_id: 8908369 });
  }, 60_000);

  it("reports for another shop's order, an order with a cart token or an order already delivered change nothing", async () => {
    // Another shop names this shop's waiting order: it goes on waiting.
    const waiting = buyItNow(7_300_003);
    await postOrder(waiting);
    for (let tries = 0; !(await rowOf(waiting)) && tries < 100; tries += 1) await pause(100);
    expect((await postReport(reportFor(waiting, OTHER_SHOP))).status).toBe(204);
    await pause(1_000);
    expect(sentFor(waiting)).toEqual([]);
    expect(await rowOf(waiting)).toMatchObject({ reasonCode: "awaiting_click_data", attributionSource: "none" });

    // An order with a cart token goes out at once, by its cart; a report for it adds nothing.
    const carted = { ...buyItNow(7_300_004), cart_token: "c1-5d41402abc4b2a76b9719d911017c592" };
    await postOrder(carted);
    expect((await postReport(reportFor(carted))).status).toBe(204);
    await harness.refersion.waitFor(() => sentFor(carted).length === 1, 20_000);
    expect(sentFor(carted)[0].body).toMatchObject({ cart_id: "c1-5d41402abc4b2a76b9719d911017c592" });
    expect(sentFor(carted)[0].body).not.toHaveProperty("auto_credit_affiliate_id");

    // An order already delivered is not sent again.
    const delivered = buyItNow(7_300_001);
    expect((await postReport({ ...reportFor(delivered), click: { ...CLICK, affiliateId: "111" } })).status).toBe(204);
    await pause(1_000);
    expect(sentFor(delivered)).toHaveLength(1);
    expect(sentFor(delivered)[0].body).toMatchObject({ auto_credit_affiliate_id: 8908369 });
    expect(await rowOf(carted)).toMatchObject({ attributionSource: "cart_token" });
  }, 60_000);

  it("refuses oversized (413) and malformed (400) reports and answers a preflight, keeping nothing", async () => {
    const hints = await prisma.clickHint.count();
    const oversized = await postReport({ ...reportFor(buyItNow(7_300_005)), click: { ...CLICK, id: "x".repeat(8_000) } });
    expect(oversized.status).toBe(413);
    expect((await postReport("{not json")).status).toBe(400);
    expect((await postReport({ ...reportFor(buyItNow(7_300_005)), email: "buyer@example.com" })).status).toBe(400);
    const preflight = await fetch(`${app.url}/pixel/checkout-completed`, {
      method: "OPTIONS",
      headers: { Origin: `https://${SHOP}`, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(await prisma.clickHint.count()).toBe(hints);
    expect(app.output().join("\n")).not.toContain(DEFAULT_SANDBOX_KEYS.secretKey);
  }, 30_000);

  it("an order whose report never comes is sent as before, without an affiliate, once its shop's wait ends", async () => {
    for (let tries = 0; sentFor(NEVER_REPORTED).length === 0 && tries < 900; tries += 1) await pause(100);
    expect(sentFor(NEVER_REPORTED)).toHaveLength(1);
    expect(sentFor(NEVER_REPORTED)[0].body).not.toHaveProperty("auto_credit_affiliate_id");
    for (let tries = 0; (await rowOf(NEVER_REPORTED, OTHER_SHOP))?.status !== "delivered" && tries < 100; tries += 1) await pause(100);
    const row = await rowOf(NEVER_REPORTED, OTHER_SHOP);
    expect(row).toMatchObject({ status: "delivered", attributionSource: "none", reasonCode: null });
    // Not before its minute was up (the row is written a moment after its wait was set).
    expect(row!.firstAttemptAt!.getTime() - row!.createdAt.getTime()).toBeGreaterThanOrEqual(59_000);
  }, 120_000);
});
