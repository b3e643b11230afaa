/**
 * The ceiling: a bare node:http server that only checks the Shopify HMAC of the raw body and
 * answers 200 (401 when forged). Nothing is parsed or stored, so no webhook receiver in Node
 * can be faster on this machine. run.ts starts it as its own process; it prints "listening PORT".
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { hmacMatches } from "./hmac";

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
