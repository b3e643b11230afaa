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
import { action as ordersCreateRoute } from "~/routes/webhooks.orders.create";
import { orderFixture, orderFixtureText, DOCS_ORDER } from "../support/fixtures";
import { webhookHeaders, webhookRequest, type WebhookRequestOptions } from "../support/shopify-webhooks";
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
    ["bytes that are not UTF-8 (the library has no text to sign)", () => {
      const request = signed({ body: "x" });
      const body = Buffer.concat([Buffer.from(ORDER.slice(0, 20)), Buffer.from([0xff, 0xfe]), Buffer.from(ORDER.slice(20))]);
      return { ...request, body };
    }],
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

  it("answers 503 when the database cannot take the webhook, storing nothing: Shopify sends it again", async () => {
    // A database that refuses the write (a full disk, a file gone read-only) as SQLite reports it.
    await prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_received BEFORE INSERT ON "ReceivedWebhook" BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    try {
      const request = signed({ webhookId: "fast-refused" });
      expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(503);
      expect(await prisma.receivedWebhook.count()).toBe(0);
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER refuse_received`);
    }
    // The next webhook is taken as usual (the statement's connection was opened anew).
    const next = signed({ webhookId: "fast-after-refusal" });
    expect(await receiveOnFastPath("orders/create", next.headers, next.body)).toBe(200);
    expect(await prisma.receivedWebhook.count()).toBe(1);
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

describe("bodies it does not read: acknowledged, then judged by the background work as the route judges them", () => {
  /** The route's answer, as Remix would give it (a thrown Response returned). */
  async function route(options: Partial<WebhookRequestOptions>): Promise<number> {
    const request = webhookRequest({ topic: "orders/create", shop: SHOP, body: ORDER, secret: TEST_ENV.SHOPIFY_API_SECRET, ...options });
    try {
      return ((await ordersCreateRoute({ request, params: {}, context: {} })) as Response).status;
    } catch (thrown) {
      if (thrown instanceof Response) return thrown.status;
      throw thrown;
    }
  }

  /** What the webhook left in the outbox, without what differs by nature (ids, times, the webhook id). */
  async function outcome() {
    const rows = await prisma.delivery.findMany({
      where: { shop: SHOP },
      orderBy: { createdAt: "asc" },
      select: { kind: true, orderId: true, status: true, reasonCode: true, reasonDetail: true, sourceExcerpt: true },
    });
    const left = await prisma.receivedWebhook.count();
    await prisma.delivery.deleteMany();
    await prisma.webhookReceipt.deleteMany();
    return { rows: rows.map((row) => ({ ...row, orderId: row.orderId.startsWith("unreadable-") ? "unreadable-(webhook id)" : row.orderId })), left };
  }

  it.each([
    ["a body that is not JSON", "{not json", 200],
    ["JSON nested past the limit", `${"[".repeat(100)}${"]".repeat(100)}`, 200],
    ["an id JSON numbers cannot hold exactly", ORDER.replace('"id": 450789469', '"id": 45078946912345678901'), 200],
    ["a body with a byte-order mark", `\uFEFF${ORDER}`, 200],
    // The route refuses it with 422; acknowledged on the fast path, it is logged and dropped the same way.
    ["a body that does not fit the topic (a refund sent as an order)", JSON.stringify({ id: 1, order_id: 2, line_items: [] }), 422],
    ["JSON null", "null", 422],
    ["a JSON string", '"an order"', 422],
  ])("%s", async (_name, body, routeStatus) => {
    await saveShopSettings(SHOP, KEYS);
    expect(await route({ body, webhookId: `route-${_name}` })).toBe(routeStatus);
    const byRoute = await outcome();
    // Recorded (an unreadable body with its reason, or the order), except the refused one.
    expect(byRoute.rows).toHaveLength(routeStatus === 200 ? 1 : 0);

    const request = signed({ body, webhookId: `fast-${_name}` });
    expect(await receiveOnFastPath("orders/create", request.headers, request.body)).toBe(200);
    expect(await actOnAll()).toBe(false);
    const byFastPath = await outcome();

    expect(byFastPath).toEqual(byRoute);
    expect(byFastPath.left).toBe(0);
  });
});
