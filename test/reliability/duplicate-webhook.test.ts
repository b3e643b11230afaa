/**
 * Shopify delivering the same orders/create webhook 100 times at once (its retries, and re-sends
 * under new webhook ids), over HTTP to the production build: every copy is acknowledged, one
 * Delivery row is kept, and Refersion receives the order once.
 */
import prisma from "~/db.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { orderFixtureText } from "../support/fixtures";
import { configureShop, DOCS_ORDER } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { eventually, sendWebhook } from "../security/http";

const SHOP = "duplicates.myshopify.com";
const COPIES = 100;

let sandbox: RefersionSandbox;
let app: ProductionApp;

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  app = await startProductionApp({
    DATABASE_URL: process.env.DATABASE_URL!,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_POLL_MS: "50",
    DELIVERY_CONCURRENCY: "8",
  });
}, 90_000);

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

describe("the same webhook, 100 times, concurrently", () => {
  it("is acknowledged every time, stored once and sent to Refersion once", async () => {
    const body = orderFixtureText(DOCS_ORDER);
    // Most copies are Shopify's retries (same webhook id); some are re-sends under new ids.
    const replies = await Promise.all(
      Array.from({ length: COPIES }, (_, index) =>
        sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body, webhookId: index % 4 === 0 ? `resend-${index}` : "webhook-1" }),
      ),
    );
    // (How fast they are acknowledged under load is measured by `npm run soak`: a test on a
    // shared two-core machine cannot promise a latency.)
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));

    const row = await eventually(
      async () => {
        const found = await prisma.delivery.findUnique({ where: { shop_orderId_kind: { shop: SHOP, orderId: "450789469", kind: "order" } } });
        return found?.status === "delivered" ? found : undefined;
      },
      15_000,
      "the order to be delivered",
    );
    expect(row).toMatchObject({ attempts: 1 });
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(1);
    expect(await prisma.deliveryAttempt.count({ where: { shop: SHOP } })).toBe(1);

    // Every copy acted on (they are acknowledged first, then acted on in the background), and
    // time for a second send to show up, if there were one.
    await eventually(async () => (await prisma.receivedWebhook.count()) === 0 || undefined, 15_000, "every copy to be acted on");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sandbox.received).toHaveLength(1);
    expect(sandbox.orders().map((request) => request.orderId)).toEqual(["450789469"]);

    const log = app.output().join("\n");
    expect(log.match(/"msg":"order recorded"/g)).toHaveLength(1);
    // A copy arriving while the first waits to be acted on is kept once under its webhook id; one
    // arriving once the first was processed is stopped by its webhook id's receipt; one under
    // another id, by the receipt or the outbox's unique key.
    const received = (log.match(/"msg":"webhook already received: acknowledged, kept once"/g) ?? []).length;
    const duplicates = (log.match(/"msg":"duplicate order webhook ignored"/g) ?? []).length;
    const repeats = (log.match(/"msg":"webhook already processed: acknowledged, nothing done"/g) ?? []).length;
    expect(received + duplicates + repeats).toBe(COPIES - 1);
  }, 60_000);
});
