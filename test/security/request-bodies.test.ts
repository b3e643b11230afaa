/**
 * Bodies held by the production build are bounded: each route reads at most its limit (the
 * login form too), and all requests in flight together at most IN_FLIGHT_BODY_BYTES, past which
 * a request is answered 503 with Retry-After instead of being read.
 */
import http from "node:http";
import net from "node:net";
import { IN_FLIGHT_BODY_BYTES } from "~/body-limits.server";
import { orderFixtureText } from "../support/fixtures";
import { DOCS_ORDER } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { rawRequest, sendWebhook } from "./http";

const SHOP = "request-bodies.myshopify.com";
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const ONE_MB = Buffer.alloc(1024 * 1024, "a");
/** A webhook-sized body: under the webhook limit, so only the budget can refuse it. */
const WEBHOOK_SIZED = Math.floor(1.9 * 1024 * 1024);

let app: ProductionApp;

beforeAll(async () => {
  app = await startProductionApp({ DATABASE_URL: process.env.DATABASE_URL!, REFERSION_WEBHOOK_URL: "http://127.0.0.1:9/", REFERSION_API_URL: "http://127.0.0.1:9/" });
}, 90_000);

afterAll(async () => {
  await app?.stop();
});

describe("every route that reads a body has a limit", () => {
  it.each([
    ["/auth/login", "shop="],
    ["/app/settings", "intent=save&publicKey="],
    ["/healthz", "x="],
    [`/refersion/conversions/${"A".repeat(43)}`, "{"],
  ])("%s: 1 MB is refused with 413, with or without a Content-Length", async (path, prefix) => {
    const body = Buffer.concat([Buffer.from(prefix), ONE_MB]);
    const headers = { "User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded" };
    for (const chunked of [false, true]) {
      const reply = await rawRequest(`${app.url}${path}`, { headers, body, chunked });
      expect({ path, chunked, status: reply.status }).toEqual({ path, chunked, status: 413 });
      expect(reply.text).toMatch(/limited to \d+ bytes/);
    }
    expect(app.output().join("\n")).toMatch(/request body refused/);
  });
});

describe("the checkout pixel's reports", () => {
  it("a body over the limit is refused with 413 that a browser can read (Access-Control-Allow-Origin)", async () => {
    for (const chunked of [false, true]) {
      const reply = await rawRequest(`${app.url}/pixel/checkout-completed`, { headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: "https://shop.example" }, body: ONE_MB, chunked });
      expect({ chunked, status: reply.status, cors: reply.headers["access-control-allow-origin"] }).toEqual({ chunked, status: 413, cors: "*" });
    }
  });
});

describe("machines' requests are not held behind the admin's", () => {
  it("while an admin request holds its turn, the pixel's reports and conversion webhooks are answered; the receiver's token is not logged", async () => {
    const url = new URL(app.url);
    // An admin form whose body never ends: it holds the admin's one turn (ADMIN_REQUESTS_IN_FLIGHT).
    const held = await new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /app/settings HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: ${BROWSER}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nintent=`);
        resolve(socket);
      });
      socket.on("error", reject);
    });
    try {
      // Sent after the held one: it waits for that turn.
      let adminAnswered = false;
      const admin = rawRequest(`${app.url}/auth/login`, { headers: { "User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded" }, body: "shop=" }).then((reply) => {
        adminAnswered = true;
        return reply;
      });
      const token = "T".repeat(43);
      const report = await rawRequest(`${app.url}/pixel/checkout-completed`, { headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: "{" });
      expect(report.status).toBe(400);
      const conversion = await rawRequest(`${app.url}/refersion/conversions/${token}`, { headers: { "Content-Type": "application/json" }, body: "{" });
      expect(conversion.status).toBeGreaterThanOrEqual(400);
      expect(conversion.status).toBeLessThan(500);
      expect(adminAnswered).toBe(false);
      held.destroy();
      expect((await admin).status).toBeGreaterThan(0);
      const log = app.output().join("\n");
      expect(log).not.toContain(token);
      expect(log).toContain("/refersion/conversions/<token>");
    } finally {
      held.destroy();
    }
  });
});

/** POSTs to `path` exactly as written: no client resolves its dot-segments first (curl --path-as-is). */
function postAsIs(path: string, body: Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        hostname,
        port,
        path,
        method: "POST",
        agent: false,
        headers: { "User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("a body's limit is the limit of the route that reads it", () => {
  it.each(["/webhooks/../auth/login", "/webhooks/%2e%2e/auth/login", "/webhooks/%2E%2E/auth/login", "/webhooks/./.%2e/auth/login"])(
    "%s: 1.5 MB for the login form is refused with 413, as at /auth/login",
    async (path) => {
      const body = Buffer.concat([Buffer.from("shop="), Buffer.alloc(1.5 * 1024 * 1024, "a")]);
      const reply = await postAsIs(path, body);
      expect({ path, status: reply.status }).toEqual({ path, status: 413 });
      expect(reply.text).toMatch(/limited to 16384 bytes/);
    },
  );
});

/** A client that declares a webhook-sized body, sends its start and then nothing more. */
function slowUpload(url: URL): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /webhooks/orders/create HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${WEBHOOK_SIZED}\r\n\r\n` + "{".repeat(1024),
      );
      resolve(socket);
    });
    socket.on("error", reject);
  });
}

describe("the bytes of all bodies in flight are bounded", () => {
  it("slow uploads past the budget are answered 503 with Retry-After; once they end, requests are read again", async () => {
    const url = new URL(app.url);
    const count = Math.ceil(IN_FLIGHT_BODY_BYTES / WEBHOOK_SIZED) + 5;
    const sockets: net.Socket[] = [];
    const answers: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const socket = await slowUpload(url);
        socket.on("data", (chunk: Buffer) => answers.push(chunk.toString("latin1")));
        sockets.push(socket);
      }
      // A whole webhook-sized body now: the budget is taken by the slow ones.
      const refused = await sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body: Buffer.alloc(WEBHOOK_SIZED, " ") });
      expect(refused.status).toBe(503);
      expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
      // The slow ones past the budget were refused from their headers on, not read.
      expect(answers.length).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    // Their shares are released with their connections.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const accepted = await sendWebhook(app.url, { topic: "orders/create", shop: SHOP, body: orderFixtureText(DOCS_ORDER) });
    expect(accepted.status).toBe(200);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});
