/**
 * Bad input to every endpoint of the production build, over HTTP: each webhook route and the
 * admin pages without a session. Each gets the right status with a reason, the process keeps
 * answering, junk is recorded (never forwarded), and a good order sent afterwards is delivered.
 */
import fs from "node:fs";
import path from "node:path";
import prisma from "~/db.server";
import { MAX_WEBHOOK_BODY_BYTES } from "~/webhooks/receive-webhook.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { orderFixtureText } from "../support/fixtures";
import { configureShop, DOCS_ORDER } from "../support/outbox";
import { freshDatabaseUrl, startProductionApp, type ProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";
import { eventually, rawRequest, sendWebhook, type RawReply } from "./http";
import { describeReason } from "~/admin/delivery-reasons";

const SHOP = "bad-input-shop.myshopify.com";
/** Receives the signed shop/redact and app/uninstalled junk, which act on the shop named. */
const VICTIM = "bad-input-victim.myshopify.com";
/** Every webhook route of the app, found from the route files, so a new one is covered too. */
const TOPICS = fs
  .readdirSync(path.resolve("app/routes"))
  .filter((file) => /^webhooks\..+\.tsx?$/.test(file))
  .map((file) => file.replace(/^webhooks\./, "").replace(/\.tsx?$/, "").replace(".", "/"))
  .sort();
/** Topics whose effect on junk is checked in detail below; the others are checked generically. */
const DETAILED = ["orders/create", "customers/data_request", "customers/redact", "shop/redact", "app/uninstalled"];
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const TEN_MB = Buffer.alloc(10 * 1024 * 1024, "{");

let sandbox: RefersionSandbox;
let app: ProductionApp;

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  await configureShop(VICTIM, DEFAULT_SANDBOX_KEYS);
  app = await startProductionApp({
    DATABASE_URL: process.env.DATABASE_URL!,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
  });
}, 90_000);

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

/** The server is alive and answering, and has not logged a crash. */
async function expectStillServing() {
  const health = await fetch(`${app.url}/healthz`);
  expect(health.status).toBe(200);
  expect(app.output().join("\n")).not.toMatch(/uncaught|unhandled|FATAL|Maximum call stack/i);
}

function expectReason(reply: RawReply, status: number, reason: RegExp) {
  expect({ status: reply.status, error: reply.error }).toEqual({ status, error: undefined });
  expect(reply.text).toMatch(reason);
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("every webhook route refuses what Shopify did not send", () => {
  it("covers every webhook route", () => {
    expect(TOPICS).toEqual(expect.arrayContaining(DETAILED));
  });

  it.each(TOPICS)("%s: forged or missing signature, missing headers, empty body, GET", async (topic) => {
    const body = JSON.stringify({ id: 1, shop_domain: SHOP, customer: { id: 1 }, orders_to_redact: [1] });
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body, forgeWith: "not-the-app-secret" }), 401, /signature does not match/);
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body, omitHeaders: ["X-Shopify-Hmac-Sha256"] }), 400, /X-Shopify-/);
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body, omitHeaders: ["X-Shopify-Topic", "X-Shopify-Shop-Domain"] }), 400, /X-Shopify-/);
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body: "" }), 400, /the body/);
    expectReason(await rawRequest(`${app.url}/webhooks/${topic}`, { method: "GET" }), 405, /POST/);
    expectReason(await rawRequest(`${app.url}/webhooks/${topic}`, { method: "PUT", body }), 405, /POST/);
    // A Shopify-signed request naming something that is not a shop domain.
    expectReason(await sendWebhook(app.url, { topic, shop: "not a shop", body }), 400, /not a valid shop domain/);
    await expectStillServing();
  });

  it.each(TOPICS)("%s: a 10 MB body is refused with 413 before it is parsed, with or without a Content-Length", async (topic) => {
    const limit = new RegExp(`limited to ${MAX_WEBHOOK_BODY_BYTES} bytes`);
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body: TEN_MB }), 413, limit);
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body: TEN_MB, chunked: true }), 413, limit);
    // Forged and oversized: still 413 first (nothing is read to check the signature).
    expectReason(await sendWebhook(app.url, { topic, shop: SHOP, body: TEN_MB, chunked: true, forgeWith: "x" }), 413, limit);
    await expectStillServing();
  });
});

describe("signed junk is acknowledged and recorded with the reason, never forwarded", () => {
  it("orders/create: invalid JSON, wrong types, payloads that are not orders (dropped), absurd nesting, an unknown shop", async () => {
    const order = JSON.parse(orderFixtureText(DOCS_ORDER)) as Record<string, unknown>;
    const cases: { webhookId: string; body: string; reason: RegExp }[] = [
      { webhookId: "junk-invalid-json", body: '{"id": 1, "line_items": [', reason: /not valid JSON/ },
      { webhookId: "junk-wrong-types", body: JSON.stringify({ ...order, id: 8801, admin_graphql_api_id: "gid://shopify/Order/8801", line_items: { 0: 1 } }), reason: /could not be mapped.*line_items/ },
      { webhookId: "junk-money", body: JSON.stringify({ ...order, id: 8802, admin_graphql_api_id: "gid://shopify/Order/8802", total_price: ["1"], currency: 12 }), reason: /could not be mapped/ },
      { webhookId: "junk-array", body: "[1, 2, 3]", reason: /could not be mapped/ },
      { webhookId: "junk-null", body: "null", reason: /could not be mapped/ },
      { webhookId: "junk-string", body: '"an order"', reason: /could not be mapped/ },
      { webhookId: "junk-customer", body: JSON.stringify({ id: 8803, email: "someone@example.com", first_name: "Not", last_name: "Anorder" }), reason: /could not be mapped/ },
      { webhookId: "junk-deep-array", body: nested(200_000), reason: /nested deeper than/ },
      { webhookId: "junk-deep-field", body: JSON.stringify({ ...order, id: 8804, admin_graphql_api_id: "gid://shopify/Order/8804", note_attributes: "DEEP" }).replace('"DEEP"', nested(50_000)), reason: /nested deeper than/ },
      { webhookId: "junk-deep-object", body: '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000), reason: /nested deeper than/ },
    ];
    // Not an order at all: another topic's body, refused before anything is recorded (test/webhooks/signed-bodies.test.ts).
    const notOrders = new Set(["junk-array", "junk-null", "junk-string", "junk-customer"]);
    for (const { webhookId, body } of cases) {
      const reply = await sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body, webhookId });
      expect({ webhookId, status: reply.status, error: reply.error }).toEqual({ webhookId, status: 200, error: undefined });
    }
    // Every signed body is acknowledged on the fast path and read by the background work a moment
    // later, as the route reads it: recorded with the reason, or (not an order) refused and
    // logged (docs/decisions/0014-webhook-intake-fast-path.md).
    await eventually(async () => (await prisma.receivedWebhook.count({ where: { shop: SHOP } })) === 0 || undefined, 10_000, "the webhooks to be acted on");
    for (const { webhookId, reason } of cases) {
      if (notOrders.has(webhookId)) {
        expect(await prisma.delivery.findFirst({ where: { shop: SHOP, webhookId } }), webhookId).toBeNull();
        // Logged by the background thread; its lines reach the output a moment after it acted.
        const logged = () => app.output().some((line) => line.includes("webhook refused: the body does not fit the topic") && line.includes(webhookId));
        await eventually(async () => logged() || undefined, 5_000, `${webhookId} to be logged as refused`);
        continue;
      }
      const row = await prisma.delivery.findFirst({ where: { shop: SHOP, webhookId } });
      expect(row, webhookId).not.toBeNull();
      expect(row!.status, webhookId).toBe("failed");
      expect(describeReason(row!.reasonCode, row!.reasonDetail), webhookId).toMatch(reason);
      expect(row!.requestBody, webhookId).toBeNull();
    }

    // A shop domain that never installed the app: acknowledged, nothing stored (test/webhooks/signed-bodies.test.ts).
    const unknown = "never-installed.myshopify.com";
    const reply = await sendWebhook(app.url, { topic: "orders/create", shop: unknown, body: orderFixtureText(DOCS_ORDER) });
    expect(reply.status).toBe(200);
    expect(await prisma.delivery.findFirst({ where: { shop: unknown } })).toBeNull();
    await expectStillServing();
  });

  it("customers/*: unreadable junk is recorded as a compliance request the merchant can see, readable junk of no shop is refused", async () => {
    for (const topic of ["customers/data_request", "customers/redact"] as const) {
      for (const body of ["{oops", nested(100_000), JSON.stringify({ customer: { id: "not-a-number" }, orders_to_redact: "x", orders_requested: {} }), "[]"]) {
        const reply = await sendWebhook(app.url, { topic, shop: SHOP, body });
        expect({ topic, body: body.slice(0, 20), status: reply.status }).toEqual({ topic, body: body.slice(0, 20), status: body.startsWith("{oops") || body.startsWith("[[") ? 200 : 422 });
      }
      for (const body of [JSON.stringify({ shop_domain: SHOP, customer: { id: "not-a-number" }, orders_to_redact: "x", orders_requested: {} })]) {
        expect((await sendWebhook(app.url, { topic, shop: SHOP, body })).status).toBe(200);
      }
      const requests = await prisma.complianceRequest.findMany({ where: { shop: SHOP, topic }, orderBy: { receivedAt: "asc" } });
      expect(requests.map((request) => request.outcome)).toEqual([
        expect.stringMatching(/Not acted on: .*not valid JSON/),
        expect.stringMatching(/Not acted on: .*nested deeper than/),
        expect.stringMatching(/^Stored orders (found|with personal data removed): 0$/),
      ]);
    }
    await expectStillServing();
  });

  it("shop/redact and app/uninstalled act on no shop when the body cannot show it is the signed shop's", async () => {
    for (const topic of ["app/uninstalled", "shop/redact"]) {
      for (const body of ["{oops", "[]", nested(100_000)]) {
        expect((await sendWebhook(app.url, { topic, shop: VICTIM, body })).status).toBe(422);
      }
    }
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: VICTIM } })).toMatchObject({ uninstalledAt: null });
    // The other shop was never touched by any of it.
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toMatchObject({ uninstalledAt: null, publicKey: DEFAULT_SANDBOX_KEYS.publicKey });
    await expectStillServing();
  });
});

describe("signed junk to the other webhook routes", () => {
  it("is acknowledged (or refused with a 4xx), never a 5xx, never forwarded", async () => {
    const others = TOPICS.filter((topic) => !DETAILED.includes(topic));
    for (const topic of others) {
      for (const body of ["{oops", "null", "[1]", '"x"', JSON.stringify({ id: "abc", line_items: 5, order_id: [] }), nested(100_000), "{}"]) {
        const reply = await sendWebhook(app.url, { topic, shop: SHOP, body });
        expect({ topic, body: body.slice(0, 20), status: reply.status < 500 && reply.status > 0 }).toEqual({ topic, body: body.slice(0, 20), status: true });
      }
    }
    await expectStillServing();
  });
});

describe("the admin pages without a session", () => {
  const PAGES = ["/app", "/app/settings", "/app/deliveries", "/app/deliveries/some-delivery-id", "/app/backfill", "/app/privacy"];

  it.each(PAGES)("%s: no page, no data, only a way to log in", async (page) => {
    // A browser with no session is sent to log in.
    const anonymous = await rawRequest(`${app.url}${page}`, { method: "GET", headers: { "User-Agent": BROWSER } });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toBe("/auth/login");
    // A forged session token: 401, and App Bridge is told to fetch a fresh token.
    const forged = await rawRequest(`${app.url}${page}`, { method: "GET", headers: { "User-Agent": BROWSER, Authorization: "Bearer not.a.token" } });
    expect(forged.status).toBe(401);
    expect(forged.headers["x-shopify-retry-invalid-session-request"]).toBe("1");
    // The embedded URL with a forged id_token.
    const embedded = await rawRequest(`${app.url}${page}?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYmFk&id_token=not.a.token`, {
      method: "GET",
      headers: { "User-Agent": BROWSER },
    });
    expect([302, 401]).toContain(embedded.status);
    // Bots are turned away before any authentication.
    expect((await rawRequest(`${app.url}${page}`, { method: "GET", headers: { "User-Agent": "curl/8.0" } })).status).toBe(410);
    // A form post without a session: refused, nothing saved.
    const post = await rawRequest(`${app.url}${page}`, {
      method: "POST",
      headers: { "User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded" },
      body: "intent=save&publicKey=pub_attacker&secretKey=sec_attacker_key&forwardingEnabled=false&since=2026-01-01&requestId=x",
    });
    // Pages with a form (the log's Retry all failed among them) answer as the library does without
    // a session; a post to /app reaches the layout, which has no action: 405.
    expect([302, 401, 405]).toContain(post.status);
    if (page === "/app") expect(post.status).toBe(405);

    for (const reply of [anonymous, forged, embedded, post]) {
      expect(reply.text).not.toContain(DEFAULT_SANDBOX_KEYS.publicKey);
      expect(reply.text).not.toContain("450789469");
    }
    const settings = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(settings).toMatchObject({ publicKey: DEFAULT_SANDBOX_KEYS.publicKey, forwardingEnabled: true });
    expect(await prisma.backfillJob.count({ where: { shop: SHOP } })).toBe(0);
    await expectStillServing();
  });
});

/** What no answer may ever contain: the app's secrets, and the shop's stored keys and token. */
function expectNoSecret(reply: RawReply) {
  for (const secret of [TEST_ENV.SHOPIFY_API_SECRET, TEST_ENV.APP_ENCRYPTION_KEY, DEFAULT_SANDBOX_KEYS.secretKey, "shpat_"]) {
    expect(reply.text).not.toContain(secret);
  }
  // No stack trace either.
  expect(reply.text).not.toMatch(/\bat .+:\d+:\d+/);
}

describe("/healthz with bad input", () => {
  it("answers GET with the health report only, and refuses other methods with 405", async () => {
    for (const query of ["", "?shop=../../etc&x=%ZZ", `?${"a=1&".repeat(2_000)}`]) {
      const reply = await rawRequest(`${app.url}/healthz${query}`, { method: "GET" });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ status: "ok", database: "ok", worker: "running" });
      expectNoSecret(reply);
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      for (const body of ["{oops", nested(100_000)]) {
        const reply = await rawRequest(`${app.url}/healthz`, { method, headers: { "Content-Type": "application/json" }, body });
        expect({ method, status: reply.status }).toEqual({ method, status: 405 });
        expectNoSecret(reply);
      }
    }
    // 10 MB: past the route's body limit (413), or the connection closes while it is still sent.
    const large = await rawRequest(`${app.url}/healthz`, { method: "POST", headers: { "Content-Type": "application/json" }, body: TEN_MB });
    if (large.status === -1) expect(large.error).toMatch(/EPIPE|ECONNRESET|socket hang up/);
    else expect(large.status).toBe(413);
    await expectStillServing();
  });
});

describe("/auth/* with bad input", () => {
  it("a forged OAuth callback creates no session and sends the browser to log in", async () => {
    const forgedShop = "bad-input-oauth.myshopify.com";
    for (const query of [
      `code=stolen&hmac=${"0".repeat(64)}&shop=${forgedShop}&state=guessed&timestamp=1`,
      `code=stolen&shop=${forgedShop}`,
      "shop=not%20a%20shop&hmac=x",
      "",
    ]) {
      const reply = await rawRequest(`${app.url}/auth/callback?${query}`, { method: "GET", headers: { "User-Agent": BROWSER } });
      expect({ query, status: reply.status, location: reply.headers.location }).toEqual({ query, status: 302, location: "/auth/login" });
      expectNoSecret(reply);
    }
    expect(await prisma.session.count({ where: { shop: forgedShop } })).toBe(0);
    await expectStillServing();
  });

  it("other /auth paths: log in, no data; not POST; no redirect to another site", async () => {
    for (const pathname of ["/auth", "/auth/anything", "/auth/%2e%2e/app/settings"]) {
      const reply = await rawRequest(`${app.url}${pathname}`, { method: "GET", headers: { "User-Agent": BROWSER } });
      expect({ pathname, status: reply.status, location: reply.headers.location }).toEqual({ pathname, status: 302, location: "/auth/login" });
    }
    const posted = await rawRequest(`${app.url}/auth/anything`, { method: "POST", headers: { "User-Agent": BROWSER, "Content-Type": "application/json" }, body: "{oops" });
    expect(posted.status).toBe(405);
    expectNoSecret(posted);
    // The session-token bounce page carries App Bridge and the public API key, nothing else of the app.
    const bounce = await rawRequest(`${app.url}/auth/session-token?shop=${SHOP}`, { method: "GET", headers: { "User-Agent": BROWSER } });
    expect(bounce.status).toBe(200);
    expect(bounce.text).toContain(TEST_ENV.SHOPIFY_API_KEY);
    expectNoSecret(bounce);
    // Leaving the admin's frame for a site that is not the shop's or the app's: refused.
    const exit = await rawRequest(`${app.url}/auth/exit-iframe?shop=${SHOP}&exitIframe=${encodeURIComponent("https://evil.example/steal")}`, {
      method: "GET",
      headers: { "User-Agent": BROWSER },
    });
    expect(exit.status).toBeGreaterThanOrEqual(400);
    expect(exit.status).toBeLessThan(500);
    expect(exit.headers.location).toBeUndefined();
    expect(exit.text).not.toContain("evil.example");
    expectNoSecret(exit);
    // The login page: a form asking for the shop, junk named as such, a real shop sent to Shopify.
    const form = await rawRequest(`${app.url}/auth/login`, { method: "GET", headers: { "User-Agent": BROWSER } });
    expect(form.status).toBe(200);
    expect(form.text).toContain("Shop domain");
    expectNoSecret(form);
    for (const query of ["?shop=%00%ZZ", "?shop=not%20a%20shop"]) {
      const junk = await rawRequest(`${app.url}/auth/login${query}`, { method: "GET", headers: { "User-Agent": BROWSER } });
      expect({ query, status: junk.status }).toEqual({ query, status: 200 });
      expect(junk.text).toContain("Enter a valid shop domain");
      expectNoSecret(junk);
    }
    const loggingIn = await rawRequest(`${app.url}/auth/login`, {
      method: "POST",
      headers: { "User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded" },
      body: "shop=bad-input-login.myshopify.com",
    });
    expect(loggingIn.status).toBe(302);
    expect(loggingIn.headers.location).toBe(`https://admin.shopify.com/store/bad-input-login/oauth/install?client_id=${TEST_ENV.SHOPIFY_API_KEY}`);
    await expectStillServing();
  });
});

describe("after all of it", () => {
  it("a good order is delivered, and it is the only thing Refersion ever received", async () => {
    await expectStillServing();
    const reply = await sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body: orderFixtureText(DOCS_ORDER), webhookId: "the-good-one" });
    expect(reply.status).toBe(200);
    const row = await eventually(
      async () => {
        const found = await prisma.delivery.findUnique({ where: { shop_orderId_kind: { shop: SHOP, orderId: "450789469", kind: "order" } } });
        return found?.status === "delivered" ? found : undefined;
      },
      15_000,
      "the good order to be delivered",
    );
    expect(row).toMatchObject({ attempts: 1, lastStatusCode: 200, webhookId: "the-good-one" });
    expect(sandbox.received.map((request) => [request.orderId, request.accepted])).toEqual([["450789469", true]]);
  });

  it("the access log names each request's path and status, never its query string (OAuth codes, HMACs, session tokens)", () => {
    const output = app.output();
    const requests = output.filter((line) => line.includes('"msg":"request"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(requests).toContainEqual(expect.objectContaining({ method: "GET", path: "/auth/callback", status: 302 }));
    expect(requests).toContainEqual(expect.objectContaining({ method: "POST", path: "/webhooks/orders/create", status: 200 }));
    expect(requests.every((request) => typeof request.durationMs === "number" && !String(request.path).includes("?"))).toBe(true);
    const everything = output.join("\n");
    for (const fragment of ["code=stolen", "hmac=", "id_token", "state=guessed"]) expect(everything).not.toContain(fragment);
  });

  it("a port already in use stops a second server with the reason, instead of serving on another port", async () => {
    // A database of its own: the second server's worker must not touch the first one's orders.
    await expect(startProductionApp({ DATABASE_URL: freshDatabaseUrl(), PORT: String(app.port) })).rejects.toThrow(
      /server could not start.*EADDRINUSE/,
    );
  }, 90_000);
});
