/**
 * After a run of the production build that refreshes the shop's expired offline token (for a
 * resend of past orders), saves keys through the admin, checks the connection, delivers with
 * failures (including a Refersion that reflects our request headers, secret key and all, back in
 * its error body), answers a customer's data request and renders every admin page: no log line,
 * no stored row and no page (nor the data download) holds a secret, whole or any 12-character
 * piece of it; the access and refresh tokens the refresh issued included.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Prisma } from "@prisma/client";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import prisma from "~/db.server";
import { SealedSessionStorage } from "~/shops/sealed-session-storage.server";
import { startBackfill } from "~/backfill/backfill.server";
import { startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { embeddedQuery, mintSessionToken, storeOfflineSession, accessTokenFor, refreshTokenFor } from "../support/admin-session";
import { startShopifyAdminStandin, type ShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import { orderFixtureText } from "../support/fixtures";
import { DOCS_ORDER } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";
import { eventually, rawRequest, sendWebhook } from "./http";

const SHOP = "secret-scan.myshopify.com";
const KEYS = { publicKey: "pub_scan_4f1a2b3c", secretKey: "sec_scan_DO_NOT_LEAK_9f8e7d6c5b4a" };
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** Everything that must never be written down or shown. */
const SECRETS = {
  "Refersion secret key": KEYS.secretKey,
  APP_ENCRYPTION_KEY: TEST_ENV.APP_ENCRYPTION_KEY,
  SHOPIFY_API_SECRET: TEST_ENV.SHOPIFY_API_SECRET,
  "Shopify access token": accessTokenFor(SHOP),
  "Shopify refresh token": refreshTokenFor(SHOP),
};

/**
 * Part of a secret is a leak too (a secret cut short by an excerpt, or split across a line):
 * every run of FRAGMENT_LENGTH characters of it is searched for, as well as the whole. A run
 * that public values also hold (the test's access token is made from the shop's name, which the
 * session id holds) tells nothing and is not searched for.
 */
const FRAGMENT_LENGTH = 12;
const PUBLIC_VALUES = [SHOP, `offline_${SHOP}`, KEYS.publicKey, TEST_ENV.SHOPIFY_API_KEY, TEST_ENV.SHOPIFY_APP_URL];

function distinctiveFragmentsOf(secret: string): string[] {
  const fragments: string[] = [];
  for (let start = 0; start + FRAGMENT_LENGTH <= secret.length; start += 1) {
    const fragment = secret.slice(start, start + FRAGMENT_LENGTH);
    if (!PUBLIC_VALUES.some((value) => value.includes(fragment))) fragments.push(fragment);
  }
  return fragments;
}

/** The secret, or the first distinctive piece of it, found in `text`; null when none is. */
function leakOf(text: string, secret: string): string | null {
  if (text.includes(secret)) return secret;
  return distinctiveFragmentsOf(secret).find((fragment) => text.includes(fragment)) ?? null;
}

/**
 * Refersion as a careless server could be: for the orders and API calls it is told to, it
 * answers with an error that quotes our request headers back (the secret key among them);
 * everything else goes on to the stand-in.
 */
async function startReflectingRefersion(sandbox: RefersionSandbox) {
  const reflectedWith: string[] = [];
  const plan = { reflectOrders: new Map<string, number>(), reflectApiCalls: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const orderId = /"order_id":"(\d+)"/.exec(body)?.[1] ?? null;
      const isApi = req.url!.startsWith("/v2/");
      const left = orderId ? plan.reflectOrders.get(orderId) ?? 0 : 0;
      if ((isApi && plan.reflectApiCalls > 0) || (!isApi && left > 0)) {
        if (isApi) plan.reflectApiCalls -= 1;
        else plan.reflectOrders.set(orderId!, left - 1);
        const secret = String(req.headers["refersion-secret-key"] ?? "");
        reflectedWith.push(secret);
        const status = isApi || orderId === "7102" ? 401 : 500;
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: `Invalid credentials: ${secret}`, echo: { headers: req.headers, body } }));
        return;
      }
      const upstream = await fetch(`${sandbox.url}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => !["host", "content-length", "connection"].includes(name))) as Record<string, string>,
        body,
      });
      res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(await upstream.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, plan, reflectedWith, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let sandbox: RefersionSandbox;
let refersion: Awaited<ReturnType<typeof startReflectingRefersion>>;
let shopify: ShopifyAdminStandin;
let app: ProductionApp;
const pages: { url: string; status: number; text: string }[] = [];

function adminUrl(pathname: string): string {
  return `${app.url}${pathname}?${embeddedQuery(SHOP, mintSessionToken(SHOP))}`;
}

/** A page as the embedded admin loads it (document request), and its data as the client fetches it. */
async function render(pathname: string, init: { method?: string; form?: Record<string, string> } = {}) {
  const document = await rawRequest(adminUrl(pathname), {
    method: init.method ?? "GET",
    headers: { "User-Agent": BROWSER, ...(init.form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}) },
    body: init.form ? new URLSearchParams(init.form).toString() : undefined,
  });
  pages.push({ url: pathname, status: document.status, text: document.text });
  const data = await rawRequest(`${app.url}${pathname}.data`, {
    method: "GET",
    headers: { "User-Agent": BROWSER, Authorization: `Bearer ${mintSessionToken(SHOP)}` },
  });
  pages.push({ url: `${pathname}.data`, status: data.status, text: data.text });
  return document;
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox({ keys: [KEYS] });
  refersion = await startReflectingRefersion(sandbox);
  shopify = await startShopifyAdminStandin({ appEnv: TEST_ENV });
  shopify.setShop(SHOP, { accessToken: accessTokenFor(SHOP), embed: "enabled", themeName: "Dawn" });
  shopify.tokens.set(SHOP, await storeOfflineSession(SHOP));
  app = await startProductionApp({
    DATABASE_URL: process.env.DATABASE_URL!,
    REFERSION_WEBHOOK_URL: `${refersion.url}/tracker/orders/paid`,
    REFERSION_API_URL: `${refersion.url}/v2`,
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
    LOG_LEVEL: "debug",
  }, { shopifyAdminStandinUrl: shopify.url });
}, 90_000);

afterAll(async () => {
  await app?.stop();
  await refersion?.close();
  await shopify?.close();
  await sandbox?.close();
});

describe("secrets stay secret", () => {
  it("through a token refresh, saving keys, a connection check, failing deliveries and every admin page", async () => {
    // The shop's offline token expired: the app's backfill runner refreshes it before reading
    // (an order history with nothing in it). Shopify issues a new access and refresh token.
    await prisma.session.update({ where: { id: `offline_${SHOP}` }, data: { expires: new Date(Date.now() - 60_000) } });
    const { job } = await startBackfill(SHOP, { since: new Date(Date.now() - 86_400_000), until: null });
    await eventually(
      async () => (await prisma.backfillJob.findUniqueOrThrow({ where: { id: job.id } })).status === "done",
      20_000,
      "the resend of past orders to finish",
    );
    expect(shopify.tokens.requests.map((request) => [request.grant, request.status])).toEqual([["refresh_token", 200]]);
    const issued = shopify.tokens.current(SHOP)!;
    expect(issued.accessToken).not.toBe(accessTokenFor(SHOP));
    // Stored sealed (SealedSessionStorage): the storage gives the tokens back, the table holds none (scanned below).
    expect(await new SealedSessionStorage(new PrismaSessionStorage(prisma)).loadSession(`offline_${SHOP}`)).toMatchObject({
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
    });
    const secrets: Record<string, string> = {
      ...SECRETS,
      "Shopify access token issued by the refresh": issued.accessToken,
      "Shopify refresh token issued by the refresh": issued.refreshToken!,
    };

    // The merchant saves the keys in the admin (the secret travels in the form, once).
    const saved = await render("/app/settings", {
      method: "POST",
      form: {
        intent: "save",
        publicKey: KEYS.publicKey,
        secretKey: KEYS.secretKey,
        forwardingEnabled: "true",
        currency: "shop",
        forwardTestOrders: "true",
        sendCustomerDetails: "true",
        autoCreditAffiliate: "false",
      },
    });
    expect(saved.status).toBe(200);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).secretKeyLast4).toBe(KEYS.secretKey.slice(-4));

    // The connection check meets a Refersion that quotes the key back, then a normal one.
    refersion.plan.reflectApiCalls = 1;
    expect((await render("/app/settings", { method: "POST", form: { intent: "test_connection" } })).status).toBe(200);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).connectionStatus).toBe("rejected");
    expect((await render("/app/settings", { method: "POST", form: { intent: "test_connection" } })).status).toBe(200);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).connectionStatus).toBe("valid");

    // Three orders: one fails twice with our headers quoted back and is then delivered; one is
    // rejected for good (401, quoted back); one meets a Refersion that is down for a moment.
    refersion.plan.reflectOrders.set("7101", 2);
    refersion.plan.reflectOrders.set("7102", 1);
    sandbox.setBehavior({ mode: "fail", status: 503, remaining: 1 }, "order");
    const order = JSON.parse(orderFixtureText(DOCS_ORDER)) as Record<string, unknown>;
    for (const id of ["7101", "7102", "7103"]) {
      const body = JSON.stringify({ ...order, id: Number(id), admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${id}` });
      expect((await sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body })).status).toBe(200);
    }
    const settled = await eventually(
      async () => {
        const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: { orderId: "asc" }, include: { deliveryAttempts: true } });
        return rows.length === 3 && rows.every((row) => row.status === "delivered" || row.status === "failed") ? rows : undefined;
      },
      20_000,
      "the three orders to settle",
    );
    expect(settled.map((row) => [row.orderId, row.status])).toEqual([
      ["7101", "delivered"],
      ["7102", "failed"],
      ["7103", "delivered"],
    ]);
    expect(settled[0].attempts).toBe(3);
    // The fault really happened: the secret went out and came back in Refersion's answers...
    expect(refersion.reflectedWith.length).toBe(4);
    expect(new Set(refersion.reflectedWith)).toEqual(new Set([KEYS.secretKey]));
    // ...and what was stored of those answers shows where it was masked.
    const quoted = settled.flatMap((row) => row.deliveryAttempts).filter((attempt) => attempt.statusCode === 500 || attempt.statusCode === 401);
    expect(quoted).toHaveLength(3);
    for (const attempt of quoted) expect(attempt.responseExcerpt).toContain("[redacted]");

    // A customer's data request, and its download from the Privacy requests page.
    const customerId = (order.customer as { id: number }).id;
    const dataRequest = JSON.stringify({ shop_domain: SHOP, customer: { id: customerId }, orders_requested: [7101, 7102, 7103], data_request: { id: 1 } });
    expect((await sendWebhook(app.url, { topic: "customers/data_request", shop: SHOP, body: dataRequest })).status).toBe(200);
    const { id: requestId } = await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP, topic: "customers/data_request" } });
    const downloaded = await rawRequest(`${app.url}/app/privacy.data`, {
      method: "POST",
      headers: { "User-Agent": BROWSER, Authorization: `Bearer ${mintSessionToken(SHOP)}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "download", requestId }).toString(),
    });
    expect(downloaded.status).toBe(200);
    expect(downloaded.text).toContain("7101");
    pages.push({ url: "/app/privacy (download)", status: downloaded.status, text: downloaded.text });

    // Every admin page, as HTML and as the data the client loads.
    for (const pathname of ["/app", "/app/settings", "/app/deliveries", "/app/backfill", "/app/privacy", ...settled.map((row) => `/app/deliveries/${row.id}`)]) {
      expect((await render(pathname)).status, pathname).toBe(200);
    }
    expect(pages.find((page) => page.url === "/app/privacy")!.text).toContain(`Customer ${customerId}`);
    const detail = pages.find((page) => page.url === `/app/deliveries/${settled[0].id}`)!;
    expect(detail.text).toContain("[redacted]");
    expect(pages.find((page) => page.url === "/app/settings")!.text).toContain(KEYS.secretKey.slice(-4));

    // The scan.
    const stored: string[] = [];
    for (const model of Prisma.dmmf.datamodel.models) {
      const rows = await (prisma as unknown as Record<string, { findMany(): Promise<unknown[]> }>)[model.name[0].toLowerCase() + model.name.slice(1)].findMany();
      // Sessions hold Shopify's access and refresh tokens by necessity; they are never shown or logged.
      stored.push(...rows.map((row) => JSON.stringify(row, (_, value) => (typeof value === "bigint" ? String(value) : value))));
    }
    const output = app.output();
    expect(output.length).toBeGreaterThan(20);
    expect(output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line).msg)).toEqual(
      expect.arrayContaining(["order recorded", "delivery attempt", "refersion connection checked"]),
    );
    for (const [name, secret] of Object.entries(secrets)) {
      expect(distinctiveFragmentsOf(secret).length, `${name} has distinctive pieces to search for`).toBeGreaterThan(0);
      const logLines = output.filter((line) => leakOf(line, secret));
      expect(logLines, `${name} in the server's output`).toEqual([]);
      expect(stored.filter((row) => leakOf(row, secret)), `${name} in the database`).toEqual([]);
      expect(
        pages.map((page) => [page.url, leakOf(page.text, secret)]).filter(([, leak]) => leak),
        `${name} in a rendered page`,
      ).toEqual([]);
    }
    expect(shopify.unexpected()).toEqual([]);
  }, 60_000);
});
