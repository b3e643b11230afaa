/**
 * The order webhooks' fast path (app/webhooks/fast-intake.server.ts) and the background work that
 * acts on what it acknowledged (app/webhooks/received-webhooks.server.ts), on the test's SQLite
 * database. Speed is the bench's business; here: the same verdicts as Shopify's library, a 200
 * only once the webhook is committed, and then the same result as the route.
 */
import type { IncomingHttpHeaders } from "node:http";
import prisma from "~/db.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { validateWebhook } from "~/shopify.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { fastIntakeTopic, receiveOnFastPath, signatureMatches } from "~/webhooks/fast-intake.server";
import { actOnReceivedWebhooks } from "~/webhooks/received-webhooks.server";
import { orderFixture, orderFixtureText, DOCS_ORDER } from "../support/fixtures";
import { webhookHeaders, type WebhookRequestOptions } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

const SHOP = "fast-intake.myshopify.com";
const ORDER = orderFixtureText(DOCS_ORDER);
const OWNER = "fast-intake-test";
const KEYS = {
  publicKey: "pub_fast",
  secretKey: "sec_fast_secret",
  forwardingEnabled: true,
  currency: "shop",
  forwardTestOrders: false,
  sendCustomerDetails: true,
  autoCreditAffiliate: false,
} as const;

/** Node's view of the headers (lower-case names), as server/app-server.mjs hands them over. */
function nodeHeaders(headers: Record<string, string>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function signed(overrides: Partial<WebhookRequestOptions> = {}) {
  const options: WebhookRequestOptions = { topic: "orders/create", shop: SHOP, body: ORDER, secret: TEST_ENV.SHOPIFY_API_SECRET, ...overrides };
  return { options, headers: nodeHeaders(webhookHeaders(options)), body: Buffer.from(options.body) };
}

const actOnAll = () => actOnReceivedWebhooks({ owner: OWNER, leaseMs: 60_000 });

beforeEach(async () => {
  await prisma.receivedWebhook.deleteMany();
  await prisma.webhookReceipt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.shopSettings.deleteMany();
  await markShopInstalled(SHOP);
});

describe("the fast path's verdict is Shopify's library's", () => {
  // Each request: the library's webhooks.validate judges it, and the fast path must take exactly
  // the ones it accepts (the others go to the route, which answers as the library says).
  const cases: [string, () => ReturnType<typeof signed>][] = [
    ["signed", () => signed()],
    ["signed with another secret", () => signed({ forgeWith: "not-the-app-secret" })],
    ["a body changed after signing", () => ({ ...signed(), body: Buffer.from(ORDER.replace("#1001", "#1002")) })],
    ["a non-ASCII body", () => signed({ body: JSON.stringify({ ...orderFixture(DOCS_ORDER), note: "Grüße, 東京 🚚" }) })],
    ...["X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id"].map(
      (name): [string, () => ReturnType<typeof signed>] => [`without ${name}`, () => signed({ omitHeaders: [name] })],
    ),
    [
      "a signature of the same bytes written differently (no base64 padding)",
      () => {
        const request = signed();
        return { ...request, headers: { ...request.headers, "x-shopify-hmac-sha256": String(request.headers["x-shopify-hmac-sha256"]).replace(/=+$/, "") } };
      },
    ],
    ["an empty body", () => signed({ body: "" })],
  ];

  it.each(cases)("%s", async (_name, make) => {
    const request = make();
    const library = await validateWebhook({
      rawBody: request.body.toString("utf8"),
      rawRequest: new Request("https://app.test/webhooks/orders/create", {
        method: "POST",
        headers: Object.entries(request.headers).map(([name, value]) => [name, String(value)]) as [string, string][],
        body: request.body.length ? request.body : undefined,
      }),
    });
    const fast = await receiveOnFastPath("orders/create", request.headers, request.body);
    expect({ fast: fast === 200 }).toEqual({ fast: library.valid });
    expect(await prisma.receivedWebhook.count()).toBe(library.valid ? 1 : 0);
  });

  it("signatureMatches compares the base64 text, as the library does", () => {
    const { body, headers } = signed();
    const signature = String(headers["x-shopify-hmac-sha256"]);
    expect(signatureMatches(body, signature, TEST_ENV.SHOPIFY_API_SECRET)).toBe(true);
    expect(signatureMatches(body, ` ${signature}`, TEST_ENV.SHOPIFY_API_SECRET)).toBe(false);
    expect(signatureMatches(body, signature, `${TEST_ENV.SHOPIFY_API_SECRET}x`)).toBe(false);
  });
});

describe("what the fast path leaves to the route", () => {
  it("takes only the order topics' paths", () => {
    expect(["/webhooks/orders/create", "/webhooks/orders/paid", "/webhooks/orders/cancelled", "/webhooks/refunds/create"].map(fastIntakeTopic)).toEqual([
      "orders/create",
      "orders/paid",
      "orders/cancelled",
      "refunds/create",
    ]);
    for (const path of ["/webhooks/app/uninstalled", "/webhooks/customers/redact", "/webhooks/shop/redact", "/webhooks/orders/create/", "/app"]) {
      expect(fastIntakeTopic(path)).toBeNull();
    }
  });

  it.each([
    ["another route's topic", () => signed({ topic: "orders/paid" })],
    ["a shop domain that is not one", () => signed({ shop: "evil.example.com" })],
    ["a shop that never installed the app (the route stores nothing of it)", () => signed({ shop: "never-installed.myshopify.com" })],
    ["a body that is not JSON", () => signed({ body: "{not json" })],
    ["a body that does not fit the topic (a refund sent as an order)", () => signed({ body: JSON.stringify({ id: 1, order_id: 2, line_items: [] }) })],
    ["JSON nested past the limit", () => signed({ body: `${"[".repeat(100)}${"]".repeat(100)}` })],
    ["an id JSON numbers cannot hold exactly", () => signed({ body: ORDER.replace('"id": 450789469', '"id": 45078946912345678901') })],
  ])("%s", async (_name, make) => {
    const request = make();
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBeNull();
    expect(await prisma.receivedWebhook.count()).toBe(0);
  });
});

describe("acknowledged, then acted on as the route would have", () => {
  it("commits the webhook (its body sealed) before the 200, then records the order and its receipt", async () => {
    await saveShopSettings(SHOP, KEYS);
    const request = signed({ webhookId: "fast-1" });
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(200);
    const [row] = await prisma.receivedWebhook.findMany({ select: { webhookId: true, shop: true, topic: true, payload: true } });
    expect(row).toMatchObject({ webhookId: "fast-1", shop: SHOP, topic: "orders/create" });
    expect(row.payload).toMatch(/^sealed:/);
    expect(row.payload).not.toContain("450789469");

    expect(await actOnAll()).toBe(false);
    expect(await prisma.receivedWebhook.count()).toBe(0);
    const deliveries = await prisma.delivery.findMany({ where: { shop: SHOP } });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ orderId: "450789469", status: "pending", webhookId: "fast-1" });
    expect(await prisma.webhookReceipt.count({ where: { key: "webhook:fast-1" } })).toBe(1);
  });

  it("keeps one copy of a webhook id while it waits, and a copy arriving later is stopped by its receipt", async () => {
    const request = signed({ webhookId: "fast-twice" });
    const answers = await Promise.all([1, 2, 3].map(() => receiveOnFastPath("orders/create", request.headers, request.body)));
    expect(answers).toEqual([200, 200, 200]);
    expect(await prisma.receivedWebhook.count()).toBe(1);
    await actOnAll();
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(200);
    await actOnAll();
    expect(await prisma.receivedWebhook.count()).toBe(0);
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(1);
  });

  it("drops a webhook of a shop erased after it was last seen, storing nothing", async () => {
    const request = signed({ webhookId: "fast-erased" });
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(200);
    // shop/redact between the acknowledgement and the background work.
    await prisma.shopSettings.deleteMany({ where: { shop: SHOP } });
    await actOnAll();
    expect(await prisma.receivedWebhook.count()).toBe(0);
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.webhookReceipt.count()).toBe(0);
  });

  it("keeps a webhook it could not act on, with the reason, for a later try", async () => {
    const request = signed({ webhookId: "fast-broken" });
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(200);
    // A body that can no longer be opened (sealed under a key this process does not have).
    await prisma.receivedWebhook.updateMany({ data: { payload: "sealed:0123456789abcdef:v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:AAAA" } });
    const now = new Date();
    await actOnReceivedWebhooks({ owner: OWNER, leaseMs: 60_000, now });
    const [kept] = await prisma.receivedWebhook.findMany({ select: { attempts: true, lastError: true, nextAttemptAt: true, leaseOwner: true } });
    expect(kept).toMatchObject({ attempts: 1, leaseOwner: null });
    expect(kept.lastError).toBeTruthy();
    expect(kept.nextAttemptAt!.getTime()).toBeGreaterThan(now.getTime());
    // Not due again yet: a pass at the same moment leaves it alone.
    await actOnReceivedWebhooks({ owner: OWNER, leaseMs: 60_000, now });
    expect((await prisma.receivedWebhook.findFirstOrThrow()).attempts).toBe(1);
    expect(await prisma.delivery.count()).toBe(0);
  });

  it("acts on one order's webhooks in the order they arrived: a cancellation after its order", async () => {
    await saveShopSettings(SHOP, KEYS);
    const order = orderFixture(DOCS_ORDER);
    const created = signed({ webhookId: "seq-create" });
    const cancelled = signed({
      topic: "orders/cancelled",
      webhookId: "seq-cancel",
      body: JSON.stringify({ ...order, cancelled_at: "2026-11-20T10:00:00-05:00", financial_status: "voided" }),
    });
    expect(await receiveOnFastPath("orders/create", created.headers, created.body)).toBe(200);
    expect(await receiveOnFastPath("orders/cancelled", cancelled.headers, cancelled.body)).toBe(200);
    await actOnAll();
    const kinds = (await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: { createdAt: "asc" }, select: { kind: true } })).map((row) => row.kind);
    expect(kinds).toEqual(["order", "cancel"]);
  });
});
