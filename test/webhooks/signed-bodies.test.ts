/**
 * A Shopify signature proves the body, nothing else: the route, X-Shopify-Topic,
 * X-Shopify-Shop-Domain, X-Shopify-Triggered-At and the webhook ids are not covered by it. Signed
 * bodies replayed over HTTP to the production build, to every webhook route, with other topics,
 * other shops, missing headers and repeated ids, change nothing they were not signed for. Nor does
 * a replayed erasure or uninstall of a shop Shopify says still has the app: Shopify is a stand-in
 * on 127.0.0.1 (scripts/shopify-admin-standin.ts), where a genuine uninstall revokes the shop's token.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import prisma from "~/db.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { startShopifyAdminStandin, type ShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import { eventually, sendWebhook } from "../security/http";
import { storeOfflineSession } from "../support/admin-session";
import { orderFixture } from "../support/fixtures";
import { configureShop, DOCS_ORDER } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";
import { fastIntakeTopic } from "~/webhooks/fast-intake.server";

/** Every webhook route of the app, found from the route files, so a new one is covered too. */
const TOPICS = fs
  .readdirSync(path.resolve("app/routes"))
  .filter((file) => /^webhooks\..+\.tsx?$/.test(file))
  .map((file) => file.replace(/^webhooks\./, "").replace(/\.tsx?$/, "").replace(".", "/"))
  .sort();

const VICTIM = "replay-victim.myshopify.com";
const SOURCE = "replay-source.myshopify.com";
const ORDER_ID = 450789469;

/** A body of each topic, as Shopify signs it for `shop`. */
function bodyOf(topic: string, shop: string): Record<string, unknown> {
  const order = orderFixture(DOCS_ORDER);
  switch (topic) {
    case "orders/create":
      return { ...order, financial_status: "pending", cancelled_at: null };
    case "orders/paid":
      return { ...order, financial_status: "paid", cancelled_at: null };
    case "orders/cancelled":
      return { ...order, financial_status: "voided", cancelled_at: "2026-11-20T10:00:00-05:00" };
    case "refunds/create":
      return { id: 509562969, order_id: ORDER_ID, created_at: "2026-11-20T10:00:00-05:00", refund_line_items: [], transactions: [] };
    case "app/uninstalled":
      return { id: 548380009, name: "Replay", domain: "replay.example", myshopify_domain: shop, updated_at: new Date().toISOString() };
    case "app/scopes_update":
      return { id: 1, previous: ["read_orders"], current: ["read_orders"], updated_at: new Date().toISOString() };
    case "customers/data_request":
      return { shop_id: 954889, shop_domain: shop, orders_requested: [ORDER_ID], customer: { id: 191167, email: "a@example.com" }, data_request: { id: 9999 } };
    case "customers/redact":
      return { shop_id: 954889, shop_domain: shop, customer: { id: 191167, email: "a@example.com" }, orders_to_redact: [ORDER_ID] };
    case "shop/redact":
      return { shop_id: 954889, shop_domain: shop };
    default:
      throw new Error(`no body for ${topic}`);
  }
}

/**
 * The order topics' webhooks are acknowledged on the fast path and acted on by the background
 * work a moment later (docs/decisions/0014-webhook-intake-fast-path.md): until none of the
 * shop's waits, what they did is not all there yet.
 */
async function actedOn(shop: string) {
  await eventually(async () => (await prisma.receivedWebhook.count({ where: { shop } })) === 0 || undefined, 10_000, `${shop}'s received webhooks to be acted on`);
}

/**
 * The order topics' routes acknowledge a signed body before reading it (the fast path): one that
 * does not fit the topic is refused by the background work, logged and changes nothing, where
 * the other routes answer it 422.
 */
const readsBodyLater = (route: string) => fastIntakeTopic(`/webhooks/${route}`) !== null;

/** Orders bodies are orders: one of them sent as orders/create is an order, as Shopify would send it. */
const fitsAnyway = (route: string, source: string) => route === "orders/create" && source.startsWith("orders/");

let sandbox: RefersionSandbox;
let shopify: ShopifyAdminStandin;
let app: ProductionApp;

async function install(shop: string) {
  shopify.setShop(shop, { accessToken: `shpat_${shop}` });
  await configureShop(shop, DEFAULT_SANDBOX_KEYS);
  await prisma.session.upsert({
    where: { id: `offline_${shop}` },
    create: { id: `offline_${shop}`, shop, state: "", isOnline: false, accessToken: `shpat_${shop}`, scope: TEST_ENV.SCOPES },
    update: {},
  });
}

/** The merchant uninstalls the app: Shopify refuses the shop's token from then on. */
const uninstallAtShopify = (shop: string) => shopify.tokens.revoke(shop);

/** The victim still has everything: keys, install, session, and nothing recorded for it. */
async function expectUntouched(shop: string) {
  expect(await prisma.shopSettings.findUnique({ where: { shop } })).toMatchObject({ uninstalledAt: null, publicKey: DEFAULT_SANDBOX_KEYS.publicKey });
  expect(await prisma.session.count({ where: { shop } })).toBe(1);
  expect(await prisma.delivery.count({ where: { shop } })).toBe(0);
  expect(await prisma.complianceRequest.count({ where: { shop } })).toBe(0);
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  shopify = await startShopifyAdminStandin({ appEnv: TEST_ENV });
  app = await startProductionApp(
    {
      DATABASE_URL: process.env.DATABASE_URL!,
      REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
      REFERSION_API_URL: sandbox.apiUrl,
      DELIVERY_POLL_MS: "100",
    },
    { shopifyAdminStandinUrl: shopify.url },
  );
}, 90_000);

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
  await shopify?.close();
});

describe("every webhook route accepts only its own topic", () => {
  it("covers the routes", () => {
    expect(TOPICS).toHaveLength(9);
  });

  it.each(TOPICS)("%s: another topic's signed body is refused (a 4xx, or acknowledged and dropped), logged, and changes nothing", async (route) => {
    await install(VICTIM);
    const lies: string[] = [];
    for (const source of TOPICS.filter((topic) => topic !== route)) {
      const body = JSON.stringify(bodyOf(source, VICTIM));
      // With its own topic in the header: the route is not that topic's.
      const honest = await sendWebhook(app.url, { topic: route, shop: VICTIM, body, headers: { "X-Shopify-Topic": source } });
      expect({ source, status: honest.status }).toEqual({ source, status: 400 });
      expect(honest.text).toMatch(/not this route's topic/);
      if (fitsAnyway(route, source)) continue;
      // With the route's topic in the header: the body is not that topic's.
      const webhookId = `lie-${crypto.randomUUID()}`;
      const lying = await sendWebhook(app.url, { topic: route, shop: VICTIM, body, webhookId });
      lies.push(webhookId);
      if (readsBodyLater(route)) {
        expect({ source, status: lying.status }).toEqual({ source, status: 200 });
      } else {
        expect({ source, status: lying.status }).toEqual({ source, status: 422 });
        expect(lying.text).toMatch(/does not fit/);
      }
    }
    await actedOn(VICTIM);
    await expectUntouched(VICTIM);
    // Each lie logged as refused (the background thread's lines reach the output a moment after it acted).
    const refused = () => app.output().filter((line) => line.includes("webhook refused: the body does not fit the topic"));
    await eventually(async () => lies.every((id) => refused().some((line) => line.includes(id))) || undefined, 5_000, "every lie to be logged as refused");
    expect(app.output().join("\n")).toMatch(/webhook refused: topic of another route/);
  });
});

describe("a body naming another shop acts on no shop", () => {
  it.each(["app/uninstalled", "customers/data_request", "customers/redact", "shop/redact"])("%s", async (topic) => {
    await install(VICTIM);
    const reply = await sendWebhook(app.url, { topic, shop: VICTIM, body: JSON.stringify(bodyOf(topic, SOURCE)) });
    expect(reply.status).toBe(422);
    expect(reply.text).toMatch(/names another shop/);
    await expectUntouched(VICTIM);
  });
});

describe("the body must fit the topic", () => {
  it("an order's own orders/create body does not cancel it, and a pending order's does not release it as paid", async () => {
    const shop = "replay-fit.myshopify.com";
    await install(shop);
    const created = JSON.stringify(bodyOf("orders/create", shop));
    expect((await sendWebhook(app.url, { topic: "orders/create", shop, body: created })).status).toBe(200);
    // Acknowledged on the fast path, then refused by the background work with the reason.
    const cancelled = await sendWebhook(app.url, { topic: "orders/cancelled", shop, body: created });
    const paid = await sendWebhook(app.url, { topic: "orders/paid", shop, body: created });
    const refund = await sendWebhook(app.url, { topic: "refunds/create", shop, body: JSON.stringify({ ...bodyOf("refunds/create", shop), order_id: undefined }) });
    expect([cancelled.status, paid.status, refund.status]).toEqual([200, 200, 200]);
    await actedOn(shop);
    const rows = await prisma.delivery.findMany({ where: { shop }, select: { kind: true } });
    expect(rows.map((row) => row.kind)).toEqual(["order"]);
    const refusedHere = () => app.output().filter((line) => line.includes("webhook refused: the body does not fit the topic") && line.includes(shop));
    const refusals = await eventually(async () => (refusedHere().length === 3 ? refusedHere() : undefined), 5_000, "the three refusals to be logged");
    expect(refusals.map((line) => JSON.parse(line).topic).sort()).toEqual(["orders/cancelled", "orders/paid", "refunds/create"]);
    expect(refusals.join("\n")).toMatch(/cancelled_at/);
    expect(refusals.join("\n")).toMatch(/financial_status/);
    expect(refusals.join("\n")).toMatch(/order_id/);
  });
});

describe("app/uninstalled without X-Shopify-Triggered-At", () => {
  it("cannot undo a later install; one with the header, or a body updated since, still uninstalls", async () => {
    const shop = "replay-uninstall.myshopify.com";
    await install(shop);
    const old = { ...bodyOf("app/uninstalled", shop), updated_at: "2020-01-01T00:00:00Z" };
    const withoutTime = { ...old, updated_at: undefined };
    for (const body of [old, withoutTime]) {
      const reply = await sendWebhook(app.url, { topic: "app/uninstalled", shop, body: JSON.stringify(body), omitHeaders: ["X-Shopify-Triggered-At"] });
      expect(reply.status).toBe(200);
      expect(await prisma.shopSettings.findUnique({ where: { shop } })).toMatchObject({ uninstalledAt: null });
      expect(await prisma.session.count({ where: { shop } })).toBe(1);
    }
    uninstallAtShopify(shop);
    const real = await sendWebhook(app.url, { topic: "app/uninstalled", shop, body: JSON.stringify(bodyOf("app/uninstalled", shop)) });
    expect(real.status).toBe(200);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop } })).uninstalledAt).not.toBeNull();
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
  });
});

describe("a replayed erasure or uninstall of a shop that still has the app", () => {
  /** The shop's data as the tests compare it: settings, sessions, orders. */
  const holdings = async (shop: string) => ({
    settings: await prisma.shopSettings.findUnique({ where: { shop } }),
    sessions: await prisma.session.count({ where: { shop } }),
    deliveries: await prisma.delivery.count({ where: { shop } }),
  });

  async function installWithAnOrder(shop: string) {
    await install(shop);
    const order = await sendWebhook(app.url, { topic: "orders/create", shop, body: JSON.stringify(bodyOf("orders/create", shop)) });
    expect(order.status).toBe(200);
    await actedOn(shop);
    const before = await holdings(shop);
    expect(before).toMatchObject({ settings: { uninstalledAt: null }, sessions: 1, deliveries: 1 });
    return before;
  }

  it("shop/redact with a new webhook id is acknowledged and erases nothing; once Shopify refuses the token, it erases the shop", async () => {
    const shop = "replay-redact.myshopify.com";
    const before = await installWithAnOrder(shop);
    const body = JSON.stringify({ shop_id: 1, shop_domain: shop });
    const replayed = await sendWebhook(app.url, { topic: "shop/redact", shop, body, webhookId: `replayed-${crypto.randomUUID()}` });
    expect(replayed.status).toBe(200);
    expect(await holdings(shop)).toEqual(before);
    expect(app.output().join("\n")).toMatch(/webhook ignored: Shopify says the app is still installed/);

    uninstallAtShopify(shop);
    const genuine = await sendWebhook(app.url, { topic: "shop/redact", shop, body, webhookId: `genuine-${crypto.randomUUID()}` });
    expect(genuine.status).toBe(200);
    expect(await holdings(shop)).toEqual({ settings: null, sessions: 0, deliveries: 0 });
  });

  it("an old app/uninstalled body with a fresh X-Shopify-Triggered-At uninstalls nothing, whether Shopify confirms the install or the body's time predates it", async () => {
    const shop = "replay-stale-uninstall.myshopify.com";
    const before = await installWithAnOrder(shop);
    const old = JSON.stringify({ ...bodyOf("app/uninstalled", shop), updated_at: "2020-01-01T00:00:00Z" });
    const fresh = { "X-Shopify-Triggered-At": new Date(Date.now() + 60_000).toISOString() };
    const replayed = await sendWebhook(app.url, { topic: "app/uninstalled", shop, body: old, headers: fresh, webhookId: `replayed-${crypto.randomUUID()}` });
    expect(replayed.status).toBe(200);
    expect(await holdings(shop)).toEqual(before);

    // Even were Shopify to refuse the token, the signed time is before the install: not undone.
    uninstallAtShopify(shop);
    const again = await sendWebhook(app.url, { topic: "app/uninstalled", shop, body: old, headers: fresh, webhookId: `again-${crypto.randomUUID()}` });
    expect(again.status).toBe(200);
    expect(await holdings(shop)).toEqual(before);
  });

  it("when Shopify cannot be asked, the answer is 503 (Shopify sends it again later) and nothing is erased", async () => {
    const shop = "replay-undecided.myshopify.com";
    const before = await installWithAnOrder(shop);
    // An expired token, and Shopify's token endpoint down: whether the app is installed is unknown.
    await prisma.session.deleteMany({ where: { shop } });
    shopify.tokens.set(shop, await storeOfflineSession(shop, { expires: new Date(Date.now() - 60_000) }));
    shopify.tokens.failNext(shop, 503, 10);
    for (const topic of ["shop/redact", "app/uninstalled"]) {
      const reply = await sendWebhook(app.url, { topic, shop, body: JSON.stringify(bodyOf(topic, shop)) });
      expect({ topic, status: reply.status }).toEqual({ topic, status: 503 });
      expect(reply.headers["retry-after"]).toBe("60");
    }
    expect(await holdings(shop)).toEqual(before);
  });
});

describe("a webhook already processed is acknowledged and ignored", () => {
  it.each(TOPICS)("%s: the same webhook id, or the same event id, is processed once", async (topic) => {
    const shop = `replay-repeat-${topic.replace(/\W/g, "-")}.myshopify.com`;
    await install(shop);
    const body = JSON.stringify(bodyOf(topic, shop));
    const webhookId = `repeat-${crypto.randomUUID()}`;
    const eventId = `event-${crypto.randomUUID()}`;
    if (topic === "app/uninstalled" || topic === "shop/redact") uninstallAtShopify(shop);
    const first = await sendWebhook(app.url, { topic, shop, body, webhookId, headers: { "X-Shopify-Event-Id": eventId } });
    expect(first.status).toBe(200);
    await actedOn(shop);
    const again = await sendWebhook(app.url, { topic, shop, body, webhookId });
    const sameEvent = await sendWebhook(app.url, { topic, shop, body, headers: { "X-Shopify-Event-Id": eventId } });
    expect([again.status, sameEvent.status]).toEqual([200, 200]);
    const ignored = await eventually(
      async () => app.output().filter((line) => line.includes("webhook already processed") && line.includes(shop)).length >= 2 || undefined,
      5_000,
      "both repeats to be logged as already processed",
    );
    expect(ignored).toBe(true);
    if (topic.startsWith("customers/")) expect(await prisma.complianceRequest.count({ where: { shop, topic } })).toBe(1);
  });
});

describe("a signed body that is not UTF-8", () => {
  const bytes = Buffer.concat([Buffer.from('{"id": 1, "note": "'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const signature = (secret: string) => crypto.createHmac("sha256", secret).update(bytes).digest("base64");

  it("is malformed, not forged: recorded as unreadable where a body is recorded, acted on nowhere", async () => {
    const shop = "replay-bytes.myshopify.com";
    await install(shop);
    const signed = { "X-Shopify-Hmac-Sha256": signature(TEST_ENV.SHOPIFY_API_SECRET) };
    const order = await sendWebhook(app.url, { topic: "orders/create", shop, body: bytes, headers: signed });
    expect(order.status).toBe(200);
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop } });
    expect(row).toMatchObject({ status: "failed", reasonCode: "unreadable_webhook" });
    expect(row.reasonDetail).toMatch(/not valid UTF-8/);
    const redact = await sendWebhook(app.url, { topic: "shop/redact", shop, body: bytes, headers: signed });
    expect(redact.status).toBe(422);
    expect(redact.text).toMatch(/not valid UTF-8/);
    expect(await prisma.shopSettings.count({ where: { shop } })).toBe(1);
    const forged = await sendWebhook(app.url, { topic: "orders/create", shop, body: bytes, headers: { "X-Shopify-Hmac-Sha256": signature("not-the-secret") } });
    expect(forged.status).toBe(401);
  });

  it("a body starting with a byte-order mark is checked as sent: signed, not forged", async () => {
    const shop = "replay-bom.myshopify.com";
    await install(shop);
    const reply = await sendWebhook(app.url, { topic: "orders/create", shop, body: "\uFEFF" + JSON.stringify(bodyOf("orders/create", shop)) });
    expect(reply.status).toBe(200);
    await actedOn(shop);
    expect(await prisma.delivery.findFirstOrThrow({ where: { shop } })).toMatchObject({ status: "failed", reasonCode: "unreadable_webhook" });
  });
});

describe("webhooks of shops that never installed the app", () => {
  it("one signed body replayed with 100 invented shop domains stores nothing, for any topic, and is logged a bounded number of times", async () => {
    const body = Buffer.from(JSON.stringify({ ...bodyOf("orders/create", SOURCE), note: "x".repeat(1_900_000) }));
    const before = app.output().filter((line) => line.includes("never installed the app")).length;
    const receiptsBefore = await prisma.webhookReceipt.count();
    for (let i = 0; i < 100; i++) {
      const shop = `invented-${i}.myshopify.com`;
      const reply = await sendWebhook(app.url, { topic: "orders/create", shop, body });
      expect({ shop, status: reply.status }).toEqual({ shop, status: 200 });
    }
    for (let i = 0; i < 20; i++) {
      expect((await sendWebhook(app.url, { topic: "orders/create", shop: "invented-0.myshopify.com", body })).status).toBe(200);
    }
    for (const topic of TOPICS) {
      const shop = "invented-all-topics.myshopify.com";
      expect((await sendWebhook(app.url, { topic, shop, body: JSON.stringify(bodyOf(topic, shop)) })).status).toBe(200);
    }
    const invented = { startsWith: "invented-" };
    expect(await prisma.delivery.count({ where: { shop: invented } })).toBe(0);
    expect(await prisma.complianceRequest.count({ where: { shop: invented } })).toBe(0);
    expect(await prisma.shopSettings.count({ where: { shop: invented } })).toBe(0);
    expect(await prisma.webhookReceipt.count()).toBe(receiptsBefore);
    const logged = app.output().filter((line) => line.includes("never installed the app")).length - before;
    expect(logged).toBeLessThanOrEqual(100 + 10 + TOPICS.length);
    expect(app.output().filter((line) => line.includes("never installed the app") && line.includes("invented-0.myshopify.com")).length).toBeLessThanOrEqual(10);
  }, 60_000);
});
