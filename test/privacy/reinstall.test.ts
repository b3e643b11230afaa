/**
 * app/uninstalled arriving after the shop installed the app again (Shopify retries a webhook for
 * hours; a retry or a delayed first delivery can come after a reinstall). The install goes
 * through the app's real auth hook: an admin request with a session token and no stored session
 * makes Shopify's library exchange the token (answered by a stand-in of Shopify's OAuth endpoint
 * on 127.0.0.1) and run afterAuth, which records the install time.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_ENV } from "../support/test-env";

/**
 * Shopify's token-exchange endpoint, as far as the library uses it: a new offline token per
 * install, expiring (with a refresh token) as the app asks for. The Admin API answers the shop's
 * latest token until `uninstall` revokes it (the app asks it before acting on app/uninstalled).
 */
async function startTokenExchangeStandin() {
  const exchanges: string[] = [];
  const unexpected: string[] = [];
  const liveTokens = new Map<string, string>();
  let issued = 0;
  const server = http.createServer((req, res) => {
    const shop = String(req.headers["x-standin-shop"] ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/admin/oauth/access_token") {
        exchanges.push(shop);
        issued += 1;
        const expiring = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { expiring?: string }).expiring === "1";
        const refresh = expiring ? { expires_in: 3600, refresh_token: `shprt_install_${issued}`, refresh_token_expires_in: 7_776_000 } : {};
        liveTokens.set(shop, `shpat_install_${issued}`);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ access_token: `shpat_install_${issued}`, scope: TEST_ENV.SCOPES, ...refresh }));
        return;
      }
      if (req.method === "POST" && /^\/admin\/api\/[^/]+\/graphql\.json$/.test(req.url ?? "")) {
        const live = liveTokens.has(shop) && req.headers["x-shopify-access-token"] === liveTokens.get(shop);
        res.writeHead(live ? 200 : 401, { "Content-Type": "application/json" });
        res.end(JSON.stringify(live ? { data: { currentAppInstallation: { id: "gid://shopify/AppInstallation/1" } } } : { errors: "Invalid API key or access token" }));
        return;
      }
      unexpected.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    unexpected,
    /** The merchant uninstalls the app: Shopify revokes its token. */
    uninstall: (shop: string) => void liveTokens.delete(shop),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const standin = await startTokenExchangeStandin();
process.env.SHOPIFY_ADMIN_STANDIN_URL = standin.url;
await import("../../scripts/shopify-admin-fetch-preload.mjs");
const { default: prisma } = await import("~/db.server");
const { configuredKeys, openValue } = await import("~/database/sealed-values.server");
const appLayout = await import("~/routes/app");
const appUninstalled = await import("~/routes/webhooks.app.uninstalled");
const ordersCreate = await import("~/routes/webhooks.orders.create");
const { adminRequest } = await import("../support/admin-session");
const { webhookHeaders } = await import("../support/shopify-webhooks");
const { configureShop } = await import("../support/outbox");
const { DEFAULT_SANDBOX_KEYS } = await import("../../scripts/refersion-sandbox");
const { ADA, BO, orderBy } = await import("./buyers");

const SHOP = "reinstalled-shop.myshopify.com";

afterAll(() => standin.close());
afterEach(() => {
  expect(standin.unexpected).toEqual([]);
});

/** The merchant opens the app in Shopify's admin. */
async function openAdmin() {
  await appLayout.loader({ request: adminRequest(SHOP, "/app"), params: {}, context: {} });
}

async function sendWebhook(route: { action: (args: never) => Promise<unknown> }, topic: string, body: unknown, triggeredAt?: string) {
  const text = JSON.stringify(body);
  const headers = webhookHeaders({ topic, shop: SHOP, body: text, secret: TEST_ENV.SHOPIFY_API_SECRET });
  if (triggeredAt !== undefined) headers["X-Shopify-Triggered-At"] = triggeredAt;
  const request = new Request(`${TEST_ENV.SHOPIFY_APP_URL}/webhooks/${topic}`, { method: "POST", headers, body: text });
  const response = (await route.action({ request, params: {}, context: {} } as never)) as Response;
  expect(response.status).toBe(200);
}

const uninstall = (triggeredAt: string) => sendWebhook(appUninstalled, "app/uninstalled", { id: 954889, domain: SHOP }, triggeredAt);
const order = (buyerOrder: Record<string, unknown>) => sendWebhook(ordersCreate, "orders/create", buyerOrder);
const statusOf = async (orderId: string) =>
  (await prisma.delivery.findUniqueOrThrow({ where: { shop_orderId_kind: { shop: SHOP, orderId, kind: "order" } } })).status;
// The shop's sessions as stored, with their tokens opened (sealed at rest: SealedSessionStorage).
const sessionsOf = async () =>
  (await prisma.session.findMany({ where: { shop: SHOP }, select: { id: true, accessToken: true } })).map((session) => ({
    ...session,
    accessToken: openValue(session.accessToken, configuredKeys().all),
  }));
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("app/uninstalled and reinstalls", () => {
  it("an uninstall triggered before the latest install changes nothing when it arrives after it; a later one does", async () => {
    // First install: the auth hook records it.
    await openAdmin();
    expect(standin.exchanges).toEqual([SHOP]);
    const firstInstall = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(firstInstall.uninstalledAt).toBeNull();
    await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
    await order(orderBy(ADA, 9201));
    expect(await statusOf("9201")).toBe("pending");

    // The merchant uninstalls; Shopify's webhook arrives and is acted on.
    await pause();
    const uninstalledAt = new Date().toISOString();
    standin.uninstall(SHOP);
    await uninstall(uninstalledAt);
    expect(await sessionsOf()).toEqual([]);
    expect(await statusOf("9201")).toBe("skipped");

    // The merchant installs again: a new token, a new install time, forwarding again.
    await pause();
    await openAdmin();
    expect(standin.exchanges).toEqual([SHOP, SHOP]);
    const reinstalled = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(reinstalled.uninstalledAt).toBeNull();
    expect(reinstalled.installedAt.getTime()).toBeGreaterThan(Date.parse(uninstalledAt));
    expect(reinstalled.publicKey).toBe(DEFAULT_SANDBOX_KEYS.publicKey);
    const sessions = await sessionsOf();
    expect(sessions).toEqual([{ id: `offline_${SHOP}`, accessToken: "shpat_install_2" }]);
    await order(orderBy(BO, 9202));
    expect(await statusOf("9202")).toBe("pending");
    const backfill = await prisma.backfillJob.create({ data: { shop: SHOP, since: new Date("2026-01-01T00:00:00Z") } });

    // Shopify delivers the first uninstall again (a retry), or a delayed copy of it, with
    // Shopify's nanosecond timestamp: nothing of the new install is touched.
    await uninstall(uninstalledAt.replace("Z", "123456Z"));
    expect(await sessionsOf()).toEqual(sessions);
    expect(await statusOf("9202")).toBe("pending");
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toEqual(reinstalled);
    expect(await prisma.backfillJob.findUniqueOrThrow({ where: { id: backfill.id } })).toEqual(backfill);

    // The merchant uninstalls again: that one is acted on.
    await pause();
    standin.uninstall(SHOP);
    await uninstall(new Date().toISOString());
    expect(await sessionsOf()).toEqual([]);
    expect(await statusOf("9202")).toBe("skipped");
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).uninstalledAt).not.toBeNull();
    expect((await prisma.backfillJob.findUniqueOrThrow({ where: { id: backfill.id } })).status).toBe("failed");
  });

  it("an uninstall without a readable X-Shopify-Triggered-At cannot undo the install, unless its signed body's updated_at dates it", async () => {
    await prisma.session.deleteMany();
    await openAdmin();
    await order(orderBy(ADA, 9203));
    await uninstall("not a time");
    expect(await sessionsOf()).not.toEqual([]);
    expect(await statusOf("9203")).not.toBe("skipped");
    standin.uninstall(SHOP);
    await sendWebhook(appUninstalled, "app/uninstalled", { id: 954889, domain: SHOP, updated_at: new Date().toISOString() }, "not a time");
    expect(await sessionsOf()).toEqual([]);
    expect(await statusOf("9203")).toBe("skipped");
  });
});
