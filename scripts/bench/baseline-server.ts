/**
 * The ceiling: a bare node:http server that only checks the Shopify HMAC of the raw body and
 * answers 200 (401 when forged). Nothing is parsed or stored, so no webhook receiver in Node
 * can be faster on this machine. run.ts starts it as its own process; it prints "listening PORT".
 */
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** Shopify's webhook check: base64 HMAC-SHA256 of the raw body, compared in constant time. */
function hmacMatches(body: Buffer, header: string | string[] | undefined, secret: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return false;
  const expected = crypto.createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(value, "base64");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

const secret = process.env.BENCH_SECRET;
if (!secret) throw new Error("BENCH_SECRET is required");

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    res.writeHead(hmacMatches(Buffer.concat(chunks), req.headers["x-shopify-hmac-sha256"], secret) ? 200 : 401).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
