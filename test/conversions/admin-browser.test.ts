import fs from "node:fs";
import path from "node:path";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import type { ConversionPlan } from "../../scripts/refersion-conversions";
import { startAdminHarness } from "../support/admin-harness";
import { launchAdminBrowser, type AdminBrowser } from "../support/admin-browser";
import type { ProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";

/**
 * Conversion webhooks in the embedded admin, in Chromium, on the production build: the merchant
 * connects them in Settings; the Refersion stand-in sends its signed webhooks to the production
 * server's receiver URL for orders the delivery worker forwarded; the home page, the delivery log
 * (Affiliate column and filter) and an order's page show what Refersion reported.
 */
const SCREENSHOTS = path.resolve("test-results/conversions");
const SHOP = "conversions-browser.myshopify.com";
const SIGNING_SECRET = "whsec_browser_0123456789";

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { createConfiguredWorker } = await import("~/background/background-work.server");
const { configureShop, enqueueFixtureOrder } = await import("../support/outbox");

const PLANS: Record<string, ConversionPlan> = {
  "8801": { outcome: "approve" },
  "8802": { outcome: "credit", affiliate: 1 },
  "8803": { outcome: "deny", deniedReason: "Self-referral" },
  "8804": { outcome: "none" },
};

let server: ProductionApp;
let admin: AdminBrowser;

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await harness.install(SHOP, { embed: "enabled", themeName: "Dawn" });
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  server = await harness.startApp();
  admin = await launchAdminBrowser({ appUrl: server.url, shop: SHOP });
}, 90_000);

afterAll(async () => {
  await admin?.close();
  await server?.stop();
  await harness.close();
});

const screenshot = (name: string) => admin.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe("conversion webhooks in the admin, in Chromium", { timeout: 60_000 }, () => {
  it("home says what is missing without them and links to Settings", async () => {
    await admin.open("/app");
    const card = admin.page.getByTestId("conversion-outcomes-not-connected");
    await card.getByText("Connect Refersion's conversion webhooks to see, for every delivered order, whether an affiliate was credited", { exact: false }).waitFor();
    // "Delivered" is explained once on the page, in the last 7 days' card, not again here.
    expect(await admin.page.getByText("means Refersion received the order", { exact: false }).count()).toBe(1);
    expect(await card.getByRole("link", { name: "Connect conversion webhooks" }).getAttribute("href")).toMatch(/^\/app\/settings\?/);
  });

  it("Settings shows the receiver URL with a copy button and takes the signing secret write-only", async () => {
    await admin.open("/app/settings");
    const url = (await admin.page.getByTestId("conversion-webhook-url").textContent()) ?? "";
    expect(url).toMatch(new RegExp(`^.+/refersion/conversions/[A-Za-z0-9_-]{43}$`));
    await admin.page.getByRole("button", { name: "Copy" }).waitFor();
    expect(await admin.page.getByTestId("conversions-last-received").textContent()).toBe("Last received: never");
    await admin.page.getByLabel("Signing secret").fill(SIGNING_SECRET);
    await admin.page.getByRole("button", { name: "Connect conversion webhooks" }).click();
    await admin.page.getByText("Conversion webhooks saved").waitFor();
    await admin.page.getByTestId("signing-secret-status").waitFor();
    expect(await admin.page.getByTestId("signing-secret-status").textContent()).toBe(`Set, ending in ${SIGNING_SECRET.slice(-4)}`);
    expect(await admin.page.getByLabel("Signing secret").inputValue()).toBe("");
    expect(await admin.page.content()).not.toContain(SIGNING_SECRET);
    await screenshot("settings-connected");

    // The URL is on the app's public address; here that address is the production server on 127.0.0.1.
    expect(new URL(url).origin).toBe(TEST_ENV.SHOPIFY_APP_URL);
    const reachable = `${server.url}${new URL(url).pathname}`;
    harness.refersion.setConversionWebhooks({ url: reachable, signingSecret: SIGNING_SECRET, plans: PLANS });
  });

  it("home, the delivery log and an order's page show what the stand-in's signed webhooks reported", async () => {
    for (const orderId of Object.keys(PLANS)) await enqueueFixtureOrder(SHOP, Number(orderId));
    await createConfiguredWorker({
      now: () => new Date(Date.now() + 1_000),
      random: () => 0.5,
      config: { webhookUrl: harness.refersion.webhookUrl, apiUrl: harness.refersion.apiUrl, timeoutMs: 5_000, retryBaseMs: 1_000, leaseMs: 60_000, concurrency: 2, pollMs: 50 },
    }).drain();
    await harness.refersion.conversions.settled();
    expect(harness.refersion.conversions.sent.map((sent) => sent.answer)).toEqual(harness.refersion.conversions.sent.map(() => 200));

    await admin.open("/app");
    const week = admin.page.getByTestId("conversion-outcomes-7");
    expect(await week.getByTestId("figure-forwarded").textContent()).toBe("4");
    expect(await week.getByTestId("figure-credited").textContent()).toBe("2");
    expect(await week.getByTestId("figure-rate").textContent()).toBe("50%");
    const conversions = await prisma.conversion.findMany({ where: { shop: SHOP, status: "pending" } });
    expect(await week.getByTestId("commission-pending").textContent()).toContain(conversions[0].commission!.replace(/\.00$/, ""));
    await screenshot("home-credited");

    await admin.open("/app/deliveries");
    await admin.page.getByRole("columnheader", { name: "Affiliate" }).waitFor();
    const rowOf = (orderName: string) => admin.page.getByRole("row").filter({ hasText: orderName });
    const names = Object.fromEntries(
      await Promise.all(Object.keys(PLANS).map(async (orderId) => [orderId, (await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId } })).orderName!])),
    );
    // The fixture orders share one name: the rows are told apart by their Affiliate cells.
    const table = admin.page.getByRole("table");
    await table.getByText("Approved").waitFor();
    await table.getByText("Pending").first().waitFor();
    await table.getByText("Denied").waitFor();
    await table.getByText("Waiting for Refersion").waitFor();
    await table.getByText("Bo Sandbox (bo22)", { exact: false }).waitFor();
    expect(await rowOf(names["8801"]).count()).toBe(4);
    await screenshot("log-affiliate-column");

    await admin.open("/app/deliveries?affiliate=denied");
    await admin.page.getByText("Affiliate: Denied").waitFor();
    expect(await admin.page.getByRole("table").getByRole("row").count()).toBe(2); // the heading and one order
    await admin.page.getByRole("table").getByRole("link").first().click();
    await admin.page.getByTestId("conversion-card").waitFor();
    const card = admin.page.getByTestId("conversion-card");
    await card.getByText("Refersion denied the commission for this order.").waitFor();
    await card.getByText("Self-referral").waitFor();
    await screenshot("order-denied");

    await admin.open("/app/settings");
    expect(await admin.page.getByTestId("conversions-last-received").textContent()).not.toBe("Last received: never");
    expect(admin.problems).toEqual([]);
  });
});
