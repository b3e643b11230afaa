/**
 * Malformed requests to the admin pages of the production build, over HTTP: each is answered
 * with a 4xx and logged without a stack trace, and the shop every page acts for (and may be
 * framed by) is the shop of the verified session token, never a `shop` in the query.
 */
import crypto from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { setUpValidSession } from "@shopify/shopify-api/test-helpers";
import prisma from "~/db.server";
import { configureShop } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";
import { rawRequest, type RawReply } from "./http";

const SHOP = "admin-bad-requests.myshopify.com";
const OTHER_SHOP = "someone-elses-store.myshopify.com";
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

let app: ProductionApp;

/** A session token as App Bridge sends it: an HS256 JWT signed with the app's secret. */
function sessionToken(shop: string): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: TEST_ENV.SHOPIFY_API_KEY,
    sub: "42",
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: crypto.randomUUID(),
    sid: crypto.randomUUID(),
  })}`;
  return `${body}.${crypto.createHmac("sha256", TEST_ENV.SHOPIFY_API_SECRET).update(body).digest("base64url")}`;
}

function host(shop: string): string {
  return Buffer.from(`${shop}/admin`).toString("base64url");
}

/** The query Shopify's admin opens an embedded page with. */
function embeddedQuery(shop: string, token = sessionToken(shop)): string {
  return new URLSearchParams({ embedded: "1", shop, host: host(shop), id_token: token }).toString();
}

function get(path: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return rawRequest(`${app.url}${path}`, { method: "GET", headers: { "User-Agent": BROWSER, ...headers } });
}

function post(path: string, body: string, contentType: string): Promise<RawReply> {
  return rawRequest(`${app.url}${path}`, {
    method: "POST",
    headers: { "User-Agent": BROWSER, Authorization: `Bearer ${sessionToken(SHOP)}`, "Content-Type": contentType },
    body,
  });
}

/** No error with a stack trace was logged since `mark`. */
function expectNoStackSince(mark: number) {
  const logged = app.output().slice(mark).join("\n");
  expect(logged).not.toMatch(/"stack"|\n\s+at /);
  expect(logged).not.toMatch(/"level":"error"/);
}

beforeAll(async () => {
  await configureShop(SHOP, { publicKey: "pub_bad_requests", secretKey: "sec_bad_requests_key" });
  const storage = new PrismaSessionStorage(prisma as PrismaClient);
  await storage.storeSession(
    setUpValidSession({
      shop: SHOP,
      isOnline: false,
      accessToken: "shpat_bad_requests",
      scope: TEST_ENV.SCOPES,
      expires: new Date(Date.now() + 3_600_000),
      refreshToken: "shprt_bad_requests",
      refreshTokenExpires: new Date(Date.now() + 90 * 86_400_000),
    }),
  );
  app = await startProductionApp({ DATABASE_URL: process.env.DATABASE_URL! });
}, 90_000);

afterAll(async () => {
  await app?.stop();
});

describe("malformed admin requests", () => {
  it("serves the page to a well-formed embedded request (the baseline)", async () => {
    const reply = await get(`/app/settings?${embeddedQuery(SHOP)}`);
    expect(reply.status).toBe(200);
  });

  it.each([
    ["a JSON body to a form action", "/app/settings", JSON.stringify({ intent: "test_connection" }), "application/json"],
    ["a multipart body without its boundary's parts", "/app/settings", "--xyz\r\nContent-Disposition: form-da", "multipart/form-data; boundary=xyz"],
    ["a multipart body with no boundary at all", "/app/privacy", "intent=download", "multipart/form-data"],
    ["a body in no form encoding", "/app/deliveries", "\u0000\u0001", "application/octet-stream"],
  ])("answers %s with a 4xx", async (_name, path, body, type) => {
    const mark = app.output().length;
    const reply = await post(`${path}?${embeddedQuery(SHOP)}`, body, type);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expectNoStackSince(mark);
  });

  it.each([
    ["a domain that is not a shop", "evil.example.com"],
    ["a header injection", "x.myshopify.com\r\nSet-Cookie: a=b"],
    ["a CSP injection", "x.myshopify.com; script-src *"],
    ["a very long value", `${"a".repeat(5_000)}.myshopify.com`],
  ])("answers a bad shop= value (%s) with a 4xx", async (_name, shop) => {
    const mark = app.output().length;
    const query = new URLSearchParams({ embedded: "1", shop, host: host(SHOP), id_token: sessionToken(SHOP) }).toString();
    const reply = await get(`/app?${query}`);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(String(reply.headers["content-security-policy"] ?? "")).not.toMatch(/evil|script-src|Set-Cookie|aaaaaaaa/);
    expectNoStackSince(mark);
  });

  it("answers the login page with a bad shop= value without failing", async () => {
    const mark = app.output().length;
    for (const shop of ["evil.example.com", "x.myshopify.com\r\nSet-Cookie: a=b", "a".repeat(5_000)]) {
      const reply = await get(`/auth/login?${new URLSearchParams({ shop }).toString()}`);
      expect(reply.status).toBeLessThan(500);
    }
    expectNoStackSince(mark);
  });

  it("answers an unauthenticated ?_data= request with a 4xx", async () => {
    const mark = app.output().length;
    for (const path of ["/app?_data=routes%2Fapp", "/app/settings?_data=routes%2Fapp.settings", "/app/privacy?_data=routes%2Fapp.privacy"]) {
      const reply = await get(path);
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.status, path).toBeLessThan(500);
    }
    expectNoStackSince(mark);
  });
});

describe("the library's /auth paths", () => {
  it.each([
    ["a JSON body", JSON.stringify({ shop: SHOP }), "application/json"],
    ["a multipart body cut short", "--xyz\r\nContent-Disposition: form-da", "multipart/form-data; boundary=xyz"],
    ["a text/plain body", `shop=${SHOP}`, "text/plain"],
  ])("answers the login form posted as %s with a 400, without a stack trace", async (_name, body, type) => {
    const mark = app.output().length;
    const reply = await rawRequest(`${app.url}/auth/login`, { method: "POST", headers: { "User-Agent": BROWSER, "Content-Type": type }, body });
    // The page's error boundary renders the refusal, with its status.
    expect(reply.status).toBe(400);
    expectNoStackSince(mark);
  });

  it.each(["/auth/session-token", "/auth/exit-iframe"])("%s refuses a shop= that is not a shop domain with a 400, writing none of it into a header", async (path) => {
    const mark = app.output().length;
    for (const shop of ["x.com%0d%0aSet-Cookie:a=b", "x.com%3B%20script-src%20*", "*", "evil.example.com"]) {
      const reply = await get(`${path}?shop=${shop}&exitIframe=%2Fapp`);
      expect({ shop, status: reply.status }).toEqual({ shop, status: 400 });
      expect(String(reply.headers["content-security-policy"] ?? "")).not.toMatch(/script-src|\*|x\.com|evil/);
      expect(reply.headers["set-cookie"]).toBeUndefined();
    }
    expectNoStackSince(mark);
  });

  it("/auth/exit-iframe refuses to leave for another site with a 400, and still leaves for the app's own page", async () => {
    const mark = app.output().length;
    const evil = await get(`/auth/exit-iframe?shop=${SHOP}&exitIframe=${encodeURIComponent("https://evil.example/")}`);
    expect(evil.status).toBe(400);
    expect(evil.text).not.toContain("evil.example");
    const own = await get(`/auth/exit-iframe?shop=${SHOP}&exitIframe=%2Fapp`);
    expect(own.status).toBe(200);
    expect(String(own.headers["content-security-policy"])).toContain(`frame-ancestors https://${SHOP}`);
    expectNoStackSince(mark);
  });
});

describe("the shop a page acts for", () => {
  it("lets the session token's shop frame the page, and no other", async () => {
    const reply = await get(`/app?${embeddedQuery(SHOP)}`);
    expect(reply.status).toBe(200);
    const csp = String(reply.headers["content-security-policy"]);
    expect(csp).toContain(`https://${SHOP}`);
    expect(csp).not.toContain(OTHER_SHOP);
  });

  it("refuses a query shop that differs from the session token's, and frames nothing for it", async () => {
    const query = new URLSearchParams({ embedded: "1", shop: OTHER_SHOP, host: host(OTHER_SHOP), id_token: sessionToken(SHOP) }).toString();
    for (const path of ["/app", "/app/settings", "/app/privacy"]) {
      const reply = await get(`${path}?${query}`);
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.status, path).toBeLessThan(500);
      expect(String(reply.headers["content-security-policy"] ?? ""), path).not.toContain(OTHER_SHOP);
    }
    const action = await rawRequest(`${app.url}/app/settings?shop=${OTHER_SHOP}`, {
      method: "POST",
      headers: { "User-Agent": BROWSER, Authorization: `Bearer ${sessionToken(SHOP)}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "intent=test_connection",
    });
    expect(action.status).toBeGreaterThanOrEqual(400);
    expect(action.status).toBeLessThan(500);
  });
});
