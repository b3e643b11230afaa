/**
 * The shops' offline tokens as "resend past orders" (and the shop command line, which runs the
 * same runner) uses them: refreshed when expired, converted when non-expiring, and failures
 * sorted into "the merchant must open the app" and "try again later". Shopify is a stand-in on
 * 127.0.0.1 (scripts/shopify-admin-standin.ts with its token endpoint,
 * scripts/shopify-token-endpoint.ts), reached by the app's own fetch.
 */
import { startShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import type { TokenGrant } from "../../scripts/shopify-token-endpoint";
import { storeOfflineSession, type OfflineSessionOptions } from "../support/admin-session";
import { pastOrders } from "../support/past-orders";
import { TEST_ENV } from "../support/test-env";

// The network boundary first: the app's fetch for *.myshopify.com goes to the stand-in, and must
// be rerouted before Shopify's library (imported by the app modules below) captures fetch.
const standin = await startShopifyAdminStandin({ appEnv: TEST_ENV });
process.env.SHOPIFY_ADMIN_STANDIN_URL = standin.url;
await import("../../scripts/shopify-admin-fetch-preload.mjs");
const { default: prisma } = await import("~/db.server");
const { setLogSink } = await import("~/logger.server");
const { configuredKeys, openValue } = await import("~/database/sealed-values.server");
const { adminOrderReaderFor } = await import("~/backfill/admin-order-reader.server");
const { ordersSearchQuery } = await import("~/backfill/graphql-order");
const { createConfiguredBackfillRunner } = await import("~/background/background-work.server");
const { startBackfill, latestBackfillJob, progressOf } = await import("~/backfill/backfill.server");
const { sendWebhook, useLifecycleHarness } = await import("../support/order-lifecycle");
const { LogSeverity, shopifyApi } = await import("@shopify/shopify-api");
const { SHOPIFY_API_VERSION, sessionStorage } = await import("~/shopify.server");
const { CONVERSION_RETRY_MS, createOfflineAccess } = await import("~/shops/offline-access.server");

const SHOP = "offline-access.myshopify.com";
const RANGE = { since: new Date("2026-11-01T00:00:00.000Z"), until: new Date("2026-11-10T23:59:59.999Z") };
const SEARCH = ordersSearchQuery(RANGE.since, RANGE.until);
const RETRY_DELAY_MS = 50;

const logLines: string[] = [];
setLogSink((line) => logLines.push(line));
const logged = (msg: string) => logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === msg);

// A Refersion stand-in, and the shop's keys saved before each test.
const lifecycle = useLifecycleHarness({ configureShop: SHOP });

const runner = () => createConfiguredBackfillRunner({ pollMs: 20, retryDelayMs: RETRY_DELAY_MS });
const reader = () => adminOrderReaderFor(SHOP, { personalData: false });
const tokenRequests = (grant: TokenGrant) => standin.tokens.requests.filter((request) => request.shop === SHOP && request.grant === grant);
// The session as stored, with its tokens opened (they are sealed at rest: SealedSessionStorage).
const storedSession = async () => {
  const row = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${SHOP}` } });
  const keys = configuredKeys().all;
  return { ...row, accessToken: openValue(row.accessToken, keys), refreshToken: row.refreshToken === null ? null : openValue(row.refreshToken, keys) };
};
const problemOf = async () => prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP }, select: { offlineAccessProblem: true, offlineAccessProblemAt: true } });
const anHourAgo = () => new Date(Date.now() - 3_600_000);

/**
 * The shops' offline access as a process with `apiSecretKey` would have it, on this test file's
 * session storage: a wrong secret is refused by Shopify's token endpoint (401 invalid_client).
 * Its own instance also keeps what it remembers per shop out of the app's.
 */
function offlineAccessWith(apiSecretKey: string = TEST_ENV.SHOPIFY_API_SECRET) {
  const appUrl = new URL(TEST_ENV.SHOPIFY_APP_URL);
  const api = shopifyApi({
    apiKey: TEST_ENV.SHOPIFY_API_KEY,
    apiSecretKey,
    apiVersion: SHOPIFY_API_VERSION,
    scopes: TEST_ENV.SCOPES.split(","),
    hostName: appUrl.host,
    isEmbeddedApp: true,
    logger: { level: LogSeverity.Error },
  });
  return createOfflineAccess({ api, sessionStorage });
}

/** A runner whose reader goes through `access` instead of the app's offline access. */
const runnerThrough = (access: ReturnType<typeof offlineAccessWith>) =>
  createConfiguredBackfillRunner({ pollMs: 20, retryDelayMs: RETRY_DELAY_MS, readerFor: (shop, options) => adminOrderReaderFor(shop, options, access) });

/** The shop's orders at Shopify, its offline session here, and the same token (and refresh token) at Shopify. */
async function install(orders: ReturnType<typeof pastOrders>, session: OfflineSessionOptions) {
  const credentials = await storeOfflineSession(SHOP, session);
  standin.setShop(SHOP, { accessToken: credentials.accessToken, orders: orders.map((order) => order.graphql) });
  standin.tokens.set(SHOP, credentials);
  return credentials;
}

afterAll(() => standin.close());
beforeEach(async () => {
  standin.requests.length = 0;
  standin.tokens.requests.length = 0;
  standin.tokens.setDelay(0);
  standin.setBucket({ maximumAvailable: 1_000, restoreRate: 8_000, throttleEvery: 0, orderDelayMs: 0 });
  await prisma.backfillJob.deleteMany();
  await prisma.session.deleteMany();
  logLines.length = 0;
});
afterEach(() => {
  expect(standin.unexpected()).toEqual([]);
});

describe("an expiring offline token", () => {
  it("GIVEN it expired WHEN two readers start at once THEN it is refreshed exactly once, both read with the new token, and the new pair is stored", async () => {
    const before = await install(pastOrders(3, { start: "2026-11-02T00:00:00Z", firstId: 9_700_000 }), { expires: anHourAgo() });
    // Shopify answers slowly: both readers ask for the token before the refresh is answered.
    standin.tokens.setDelay(150);

    const counts = await Promise.all([reader(), reader()].map(async (pending) => (await pending).count(SEARCH)));

    expect(counts).toEqual([3, 3]);
    expect(tokenRequests("refresh_token").map((request) => [request.presented, request.status])).toEqual([[before.refreshToken, 200]]);
    const held = standin.tokens.current(SHOP)!;
    expect(held.accessToken).not.toBe(before.accessToken);
    const stored = await storedSession();
    expect(stored).toMatchObject({ accessToken: held.accessToken, refreshToken: held.refreshToken });
    expect(stored.expires!.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(Math.abs(stored.refreshTokenExpires!.getTime() - held.refreshTokenExpiresAt!)).toBeLessThan(5_000);
    // Both reads were accepted: they carried the new token (Shopify refuses the old one).
    expect(standin.requests.map((request) => [request.operation, request.status])).toEqual([
      ["ordersCount", 200],
      ["ordersCount", 200],
    ]);
    expect(standin.tokens.admits(SHOP, before.accessToken)).toBe(false);
  });

  it("GIVEN a read that outlives its token THEN the next request refreshes it first", async () => {
    await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_710_000 }), {});
    const orders = await reader();
    expect(await orders.count(SEARCH)).toBe(2);
    expect(standin.tokens.requests).toEqual([]);

    // An hour later (the clock of this process, the stand-in's too): the token expired.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61 * 60_000);
      expect(await orders.count(SEARCH)).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    expect(tokenRequests("refresh_token").map((request) => request.status)).toEqual([200]);
    expect(standin.requests.map((request) => request.status)).toEqual([200, 200]);
  });

  it("GIVEN another process refreshed the token meanwhile THEN a reader holding the old one is refused once and goes on with the stored one", async () => {
    const before = await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_715_000 }), {});
    const orders = await reader();
    expect(await orders.count(SEARCH)).toBe(2);

    // The other process: Shopify's token endpoint, then the session table.
    const answer = await fetch(`https://${SHOP}/admin/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: TEST_ENV.SHOPIFY_API_KEY, client_secret: TEST_ENV.SHOPIFY_API_SECRET, grant_type: "refresh_token", refresh_token: before.refreshToken }),
    });
    const pair = (await answer.json()) as { access_token: string; refresh_token: string; expires_in: number };
    await prisma.session.update({
      where: { id: `offline_${SHOP}` },
      data: { accessToken: pair.access_token, refreshToken: pair.refresh_token, expires: new Date(Date.now() + pair.expires_in * 1000) },
    });

    expect(await orders.count(SEARCH)).toBe(2);
    expect(standin.requests.map((request) => request.status)).toEqual([200, 401, 200]);
    // No refresh of its own: the other process's token was used.
    expect(tokenRequests("refresh_token")).toHaveLength(1);
    standin.requests.length = 0;
  });

  it("GIVEN Shopify refuses the refresh (revoked: 400 invalid_grant) THEN the backfill stops with the reason, the problem is recorded and logged, and nothing is lost", async () => {
    const orders = pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_720_000 });
    const before = await install(orders, { expires: anHourAgo() });
    standin.tokens.revoke(SHOP);
    // An order that came by webhook, waiting for Refersion.
    expect((await sendWebhook(SHOP, "orders/create", orders[0].rest)).status).toBe(200);

    const { job } = await startBackfill(SHOP, RANGE);
    expect(await runner().runOnce()).toEqual({ jobId: job.id, outcome: "failed" });

    const saved = progressOf((await latestBackfillJob(SHOP))!);
    expect(saved).toMatchObject({ status: "failed", processed: 0, enqueued: 0 });
    // What the admin's home page tells the merchant once access is renewed.
    expect((await latestBackfillJob(SHOP))!.accessProblem).toBe("refresh_refused");
    expect(saved.error).toBe(
      "Shopify refused to renew the app's access to this shop (the access may have been revoked). " +
        "Open the app from the shop's Shopify admin to renew it (or install it again), then start again.",
    );
    // Asked once; no Admin API call was made with a token Shopify no longer takes.
    expect(tokenRequests("refresh_token").map((request) => [request.status, request.error])).toEqual([[400, "invalid_grant"]]);
    expect(standin.requests).toEqual([]);

    const problem = await problemOf();
    expect(problem.offlineAccessProblem).toBe("refresh_refused");
    expect(Date.now() - problem.offlineAccessProblemAt!.getTime()).toBeLessThan(60_000);
    expect(logged("offline access needs the merchant to open the app")).toEqual([
      expect.objectContaining({ level: "warn", shop: SHOP, problem: "refresh_refused", status: 400, shopifyError: "invalid_grant" }),
    ]);
    for (const token of [before.accessToken, before.refreshToken!]) expect(logLines.join("\n")).not.toContain(token);

    // Nothing lost: the stored session is kept as it was, and the order is delivered without Shopify.
    expect(await storedSession()).toMatchObject({ accessToken: before.accessToken, refreshToken: before.refreshToken });
    expect(await lifecycle.worker().drain()).toBeGreaterThan(0);
    expect(await prisma.delivery.findMany({ where: { shop: SHOP }, select: { orderId: true, status: true } })).toEqual([
      { orderId: String(orders[0].rest.id), status: "delivered" },
    ]);
    expect(lifecycle.sandbox.received.filter((request) => request.accepted)).toHaveLength(1);
  });

  it("GIVEN Shopify answers 503 to the refresh THEN the backfill pauses, goes on by itself once Shopify answers, and nothing is recorded for the merchant", async () => {
    const before = await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_730_000 }), { expires: anHourAgo() });
    standin.tokens.failNext(SHOP, 503);
    const { job } = await startBackfill(SHOP, RANGE);
    const backfill = runner();

    expect(await backfill.runOnce()).toEqual({ jobId: job.id, outcome: "paused" });
    const paused = progressOf((await latestBackfillJob(SHOP))!);
    expect(paused).toMatchObject({ status: "running", processed: 0 });
    expect(paused.error).toBe("Paused, will go on by itself: The app could not renew its access to this shop just now (Shopify answered 503).");
    expect((await problemOf()).offlineAccessProblem).toBeNull();
    expect(logged("offline access token not renewed, will try again")).toEqual([expect.objectContaining({ level: "warn", shop: SHOP, status: 503 })]);
    expect((await latestBackfillJob(SHOP))!.accessProblem).toBeNull();
    // The refresh token was not spent: the session is as it was.
    expect((await storedSession()).refreshToken).toBe(before.refreshToken);

    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS + 20));
    expect(await backfill.runOnce()).toEqual({ jobId: job.id, outcome: "done" });
    expect(tokenRequests("refresh_token").map((request) => request.status)).toEqual([503, 200]);
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ status: "done", processed: 2, enqueued: 2, error: null });
  });

  it.each([
    ["there is no stored session", "no_session", null, /^The app has no access token for this shop\. Open the app/],
    ["the refresh token itself expired", "refresh_token_expired", { expires: anHourAgo(), refreshTokenExpires: new Date(Date.now() - 1_000) }, /^The app's access to this shop lapsed/],
  ] as const)("GIVEN %s THEN the backfill stops with the reason and the problem is recorded, without asking Shopify", async (_, problem, session, message) => {
    if (session) await install([], session);
    else standin.setShop(SHOP, { accessToken: "shpat_unused", orders: [] });
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("failed");
    expect(progressOf((await latestBackfillJob(SHOP))!).error).toMatch(message);
    expect((await problemOf()).offlineAccessProblem).toBe(problem);
    expect(standin.tokens.requests).toEqual([]);
  });
});

describe("failures that are not the shop's", () => {
  const CREDENTIALS_REFUSED = "Shopify refused the app's credentials (SHOPIFY_API_KEY, SHOPIFY_API_SECRET): offline access cannot be renewed";

  it("GIVEN the process holds a wrong or rotated SHOPIFY_API_SECRET (401 invalid_client) THEN an error is logged without secrets, nothing is recorded for the shop, and the backfill pauses until the secret is right", async () => {
    const wrongSecret = "shpss_rotated_0000000000000000aaaa";
    const before = await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_750_000 }), { expires: anHourAgo() });
    const { job } = await startBackfill(SHOP, RANGE);

    expect(await runnerThrough(offlineAccessWith(wrongSecret)).runOnce()).toEqual({ jobId: job.id, outcome: "paused" });

    expect(tokenRequests("refresh_token").map((request) => [request.status, request.error])).toEqual([[401, "invalid_client"]]);
    const paused = (await latestBackfillJob(SHOP))!;
    expect(progressOf(paused)).toMatchObject({ status: "running", processed: 0 });
    expect(paused.error).toBe(
      "Paused, will go on by itself: The app could not renew its access to this shop: " +
        "Shopify did not accept the app's own credentials, which the app's operator must correct.",
    );
    expect(paused.accessProblem).toBeNull();
    // Not the merchant's: no problem recorded, no merchant told to open the app.
    expect((await problemOf()).offlineAccessProblem).toBeNull();
    expect(logged("offline access needs the merchant to open the app")).toEqual([]);
    expect(logged(CREDENTIALS_REFUSED)).toEqual([
      expect.objectContaining({ level: "error", shop: SHOP, renewal: "refresh", status: 401, shopifyError: "invalid_client" }),
    ]);
    for (const secret of [wrongSecret, TEST_ENV.SHOPIFY_API_SECRET, before.accessToken, before.refreshToken!]) expect(logLines.join("\n")).not.toContain(secret);
    expect(await storedSession()).toMatchObject({ accessToken: before.accessToken, refreshToken: before.refreshToken });

    // The operator corrects the secret (here: the app's own process): the job goes on by itself.
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS + 20));
    expect(await runner().runOnce()).toEqual({ jobId: job.id, outcome: "done" });
    expect(progressOf((await latestBackfillJob(SHOP))!)).toMatchObject({ status: "done", processed: 2, enqueued: 2, error: null });
  });

  it("GIVEN the connection to Shopify's token endpoint breaks THEN the log names the network error's code and no URL, and the backfill pauses", async () => {
    await install(pastOrders(1, { start: "2026-11-02T00:00:00Z", firstId: 9_760_000 }), { expires: anHourAgo() });
    standin.tokens.failNext(SHOP, "disconnect");
    const { job } = await startBackfill(SHOP, RANGE);

    expect(await runner().runOnce()).toEqual({ jobId: job.id, outcome: "paused" });

    expect(progressOf((await latestBackfillJob(SHOP))!).error).toBe(
      "Paused, will go on by itself: The app could not renew its access to this shop just now (Shopify could not be reached).",
    );
    // undici's code for a connection closed without an answer.
    expect(logged("offline access token not renewed, will try again")).toEqual([
      expect.objectContaining({ level: "warn", shop: SHOP, error: "TypeError", errorCode: "UND_ERR_SOCKET" }),
    ]);
    expect(logLines.join("\n")).not.toMatch(/oauth\/access_token|127\.0\.0\.1/);
    expect((await problemOf()).offlineAccessProblem).toBeNull();
  });

  it.each([
    ["Shopify's token endpoint fails (503)", 503, "offline access token not converted, the non-expiring one is used meanwhile", "warn"],
    ["the connection breaks", "disconnect", "offline access token not converted, the non-expiring one is used meanwhile", "warn"],
    ["Shopify refuses the app's credentials", "wrong secret", CREDENTIALS_REFUSED, "error"],
  ] as const)("GIVEN a non-expiring token and %s THEN the backfill reads with that token, which still works, and the conversion is asked for again later", async (_, failure, message, level) => {
    const before = await install(pastOrders(2, { start: "2026-11-02T00:00:00Z", firstId: 9_770_000 }), { expires: null });
    if (failure !== "wrong secret") standin.tokens.failNext(SHOP, failure);
    const access = offlineAccessWith(failure === "wrong secret" ? "shpss_rotated_1111111111111111bbbb" : undefined);
    const { job } = await startBackfill(SHOP, RANGE);

    expect(await runnerThrough(access).runOnce()).toEqual({ jobId: job.id, outcome: "done" });

    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(2);
    // Asked once, not before every call: count, a page and two orders, all with the old token.
    expect(tokenRequests("conversion")).toHaveLength(1);
    expect(standin.requests.map((request) => [request.operation, request.status])).toEqual([
      ["ordersCount", 200],
      ["orders", 200],
      ["order", 200],
      ["order", 200],
    ]);
    expect(logged(message)).toEqual([expect.objectContaining({ level, shop: SHOP })]);
    expect((await problemOf()).offlineAccessProblem).toBeNull();
    expect(await storedSession()).toMatchObject({ accessToken: before.accessToken, expires: null });

    if (failure === "wrong secret") return;
    // Once CONVERSION_RETRY_MS passed, the next use converts it.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + CONVERSION_RETRY_MS + 1_000);
      const converted = await access.sessionFor(SHOP);
      expect(converted.accessToken).toBe(standin.tokens.current(SHOP)!.accessToken);
      expect(converted.expires).toBeInstanceOf(Date);
    } finally {
      vi.useRealTimers();
    }
    expect(tokenRequests("conversion").map((request) => request.status)).toEqual([failure === 503 ? 503 : 0, 200]);
  });
});

describe("a non-expiring offline token (a shop installed before expiring tokens)", () => {
  it("GIVEN two readers at once THEN it is converted once, both read with the expiring token, and from then on it works without asking again", async () => {
    const before = await install(pastOrders(3, { start: "2026-11-02T00:00:00Z", firstId: 9_740_000 }), { expires: null });
    standin.tokens.setDelay(150);

    const counts = await Promise.all([reader(), reader()].map(async (pending) => (await pending).count(SEARCH)));

    expect(counts).toEqual([3, 3]);
    expect(tokenRequests("conversion").map((request) => [request.presented, request.status])).toEqual([[before.accessToken, 200]]);
    const held = standin.tokens.current(SHOP)!;
    expect(held.accessTokenExpiresAt).not.toBeNull();
    const stored = await storedSession();
    expect(stored).toMatchObject({ accessToken: held.accessToken, refreshToken: held.refreshToken });
    expect(stored.expires!.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(standin.tokens.admits(SHOP, before.accessToken)).toBe(false);

    standin.tokens.setDelay(0);
    await startBackfill(SHOP, RANGE);
    expect((await runner().runOnce())?.outcome).toBe("done");
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(3);
    expect(standin.tokens.requests).toHaveLength(1);
    expect((await problemOf()).offlineAccessProblem).toBeNull();
  });
});
