/**
 * The naive peer: what the seed's instructions lead to when followed inside the webhook
 * handler. It checks the HMAC, maps the order (the app's own pure mapping, so both do the same
 * work) and POSTs it to Refersion, answering Shopify only when Refersion has answered: 200 when
 * Refersion accepted the order, 500 otherwise (so that Shopify sends it again). No outbox.
 * run.ts starts it as its own process; it prints "listening PORT".
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { hmacMatches } from "./hmac";

const secret = process.env.BENCH_SECRET;
const webhookUrl = process.env.REFERSION_WEBHOOK_URL;
const publicKey = process.env.REFERSION_PUBLIC_KEY;
const secretKey = process.env.REFERSION_SECRET_KEY;
if (!secret || !webhookUrl || !publicKey || !secretKey) {
  throw new Error("BENCH_SECRET, REFERSION_WEBHOOK_URL, REFERSION_PUBLIC_KEY and REFERSION_SECRET_KEY are required");
}

async function forward(raw: Buffer, shop: string): Promise<number> {
  const mapped = mapOrderToConversion(JSON.parse(raw.toString("utf8")), {
    shop,
    currency: "shop",
    includeCustomer: true,
    autoCreditAffiliate: false,
    cartIdSecret: secret!,
  });
  if (!mapped.ok) return 200; // nothing Refersion could take; acknowledged so Shopify stops
  const response = await fetch(webhookUrl!, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Refersion-Public-Key": publicKey!, "Refersion-Secret-Key": secretKey! },
    body: JSON.stringify(mapped.conversion),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.ok ? 200 : 500;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    if (!hmacMatches(raw, req.headers["x-shopify-hmac-sha256"], secret)) return void res.writeHead(401).end();
    const shop = String(req.headers["x-shopify-shop-domain"] ?? "");
    forward(raw, shop).then(
      (status) => res.writeHead(status).end(),
      () => res.writeHead(500).end(),
    );
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
