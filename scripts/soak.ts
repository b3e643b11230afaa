/**
 * Soak test (not part of `npm test`): `npm run soak [-- --webhooks 10000 --burst 500 --concurrency 20]`
 * (`npm run soak -- --help` lists the options)
 *
 * Everything on 127.0.0.1: a fresh migrated SQLite file, the Refersion stand-in failing a fifth
 * of order posts (`flaky`, failRate 0.2, seeded), and the app's production build (`npm start`'s server,
 * worker on, DELIVERY_RETRY_BASE_MS=200). It sends signed orders/create webhooks in bursts (a
 * few of them Shopify-style re-deliveries of an earlier order), waits until Refersion has accepted
 * every order, stops the app (the SQLite file serves one process: it is read only afterwards),
 * and checks the promises:
 *   - every webhook acknowledged (200) within Shopify's 5 seconds;
 *   - every order delivered (our Delivery row) and accepted by Refersion exactly once;
 *   - nothing lost, nothing duplicated.
 * Prints the counts and exits 1 if any promise is broken (the run's folder is kept then).
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient } from "../app/database/prisma-clients";
import { startAppProcess } from "./app-process";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox } from "./refersion-sandbox";
import { shopifyWebhookHeaders } from "./shopify-webhooks";

const SHOP = "soak-store.myshopify.com";
/** The real order payloads kept in the repository (test/fixtures/orders/SOURCES.md). */
const ORDER_FIXTURE = path.resolve("test/fixtures/orders/shopify-docs-order-1001-2026-07.json");
/** The app's environment: throwaway credentials, made for this run. */
const APP_ENV = {
  NODE_ENV: "production" as const,
  SHOPIFY_API_KEY: "soak-api-key",
  SHOPIFY_API_SECRET: `soak-secret-${crypto.randomBytes(12).toString("hex")}`,
  SHOPIFY_APP_URL: "https://soak-app.invalid",
  SCOPES: "read_orders,read_themes",
  APP_ENCRYPTION_KEY: crypto.randomBytes(32).toString("hex"),
};
const ACK_LIMIT_MS = 5_000;
const FIRST_ORDER_ID = 7_000_000_000;

const USAGE = `Usage: npm run soak [-- options]
  --webhooks N         orders/create webhooks to send (default 10000)
  --burst N            webhooks sent together before the next burst (default 500)
  --concurrency N      requests in flight within a burst (default 20)
  --fail-rate R        share of order posts the Refersion stand-in fails (default 0.2)
  --duplicate-rate R   share of webhooks re-delivered as Shopify does (default 0.05)
  --drain-timeout S    seconds to wait for every order to reach Refersion (default 600)
  --help               print this and exit`;

const SOAK_OPTIONS = {
  webhooks: { type: "string", default: "10000" },
  burst: { type: "string", default: "500" },
  concurrency: { type: "string", default: "20" },
  "fail-rate": { type: "string", default: "0.2" },
  "duplicate-rate": { type: "string", default: "0.05" },
  "drain-timeout": { type: "string", default: "600" },
  help: { type: "boolean", default: false },
} as const;

function parseOptions() {
  try {
    return parseArgs({ options: SOAK_OPTIONS }).values;
  } catch (error) {
    // An unknown option or a missing value: the message and the usage, not a stack trace.
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}


const values = parseOptions();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const WEBHOOKS = Number(values.webhooks);
const BURST = Number(values.burst);
const CONCURRENCY = Number(values.concurrency);
const FAIL_RATE = Number(values["fail-rate"]);
const DUPLICATE_RATE = Number(values["duplicate-rate"]);
const DRAIN_TIMEOUT_MS = Number(values["drain-timeout"]) * 1000;

function log(message: string) {
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A repeatable PRNG: the same run sends the same duplicates. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Webhook {
  orderId: string;
  webhookId: string;
  body: string;
}

/** The webhooks to send: unique orders, with some re-deliveries of earlier ones mixed in. */
function plan(): Webhook[] {
  const order = JSON.parse(fs.readFileSync(ORDER_FIXTURE, "utf8")) as Record<string, unknown>;
  const random = prng(7);
  const list: Webhook[] = [];
  for (let index = 0; list.length < WEBHOOKS; index += 1) {
    if (list.length > 10 && random() < DUPLICATE_RATE) {
      // Shopify retrying an earlier delivery: same body, same webhook id.
      list.push(list[Math.floor(random() * list.length)]);
      continue;
    }
    const id = FIRST_ORDER_ID + index;
    const body = JSON.stringify({ ...order, id, admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#S${index}`, test: false });
    list.push({ orderId: String(id), webhookId: crypto.randomUUID(), body });
  }
  return list;
}

async function main(): Promise<number> {
  const runDir = path.resolve(".cache/soak", `run-${Date.now()}`);
  fs.mkdirSync(runDir, { recursive: true });
  const databaseUrl = `file:${path.join(runDir, "soak.sqlite")}`;
  log(`migrating ${databaseUrl}`);
  execFileSync("npx", ["prisma", "migrate", "deploy"], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ["ignore", "ignore", "inherit"] });
  const env = { PATH: process.env.PATH ?? "", ...APP_ENV, DATABASE_URL: databaseUrl };
  execFileSync(
    process.execPath,
    ["--import", "tsx", "scripts/shop-cli.ts", "configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey],
    { env: { ...env, REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey }, stdio: ["ignore", "ignore", "inherit"] },
  );

  const sandbox = await startRefersionSandbox({ recordBodies: false });
  sandbox.setBehavior({ mode: "flaky", failRate: FAIL_RATE, status: 503, seed: 11 }, "order");
  const app = await startAppProcess({
    env: {
      ...APP_ENV,
      DATABASE_URL: databaseUrl,
      REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
      REFERSION_API_URL: sandbox.apiUrl,
      DELIVERY_WORKER: "on",
      DELIVERY_RETRY_BASE_MS: "200",
      DELIVERY_POLL_MS: "100",
      DELIVERY_CONCURRENCY: "16",
      // info: the access log (one line per request, with the time spent on it) is read below.
      LOG_LEVEL: "info",
    },
  });
  let prisma: PrismaClient | null = null;
  let ok = false;
  try {
    const webhooks = plan();
    const unique = new Set(webhooks.map((webhook) => webhook.orderId));
    log(`app on ${app.url}; sending ${webhooks.length} webhooks (${unique.size} orders) in bursts of ${BURST}, ${CONCURRENCY} at a time`);

    const latencies: number[] = [];
    /** [seconds since the first send, milliseconds to the answer] of each webhook. */
    const timeline: [number, number][] = [];
    const statuses = new Map<string, number>();
    const started = Date.now();
    for (let offset = 0; offset < webhooks.length; offset += BURST) {
      const burst = webhooks.slice(offset, offset + BURST);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, burst.length) }, async () => {
          for (let index = next++; index < burst.length; index = next++) {
            const webhook = burst[index];
            const headers = shopifyWebhookHeaders({ topic: "orders/create", shop: SHOP, body: webhook.body, secret: APP_ENV.SHOPIFY_API_SECRET, webhookId: webhook.webhookId });
            const sentAt = performance.now();
            let status: string;
            try {
              const response = await fetch(`${app.url}/webhooks/orders/create`, { method: "POST", headers, body: webhook.body, signal: AbortSignal.timeout(30_000) });
              await response.arrayBuffer();
              status = String(response.status);
            } catch (error) {
              status = `error: ${error instanceof Error ? error.message : String(error)}`;
            }
            latencies.push(performance.now() - sentAt);
            timeline.push([(Date.now() - started) / 1000 - (performance.now() - sentAt) / 1000, performance.now() - sentAt]);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      if ((offset / BURST) % 4 === 3) log(`sent ${Math.min(offset + BURST, webhooks.length)}; Refersion accepted ${sandbox.stats().accepted} so far`);
      // A breath between bursts, as real traffic comes in waves.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const sendingSeconds = (Date.now() - started) / 1000;
    log(`all sent in ${sendingSeconds.toFixed(1)} s; waiting for Refersion to accept every order`);

    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let lastProgress = 0;
    while (Date.now() < deadline && sandbox.stats().accepted < unique.size) {
      if (Date.now() - lastProgress > 10_000) {
        log(`Refersion accepted ${sandbox.stats().accepted} of ${unique.size}`);
        lastProgress = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Time for a late duplicate to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const drainedSeconds = (Date.now() - started) / 1000;
    // Stopped before the database is read (deliveries in flight are recorded first): the SQLite
    // file serves one process. A row Refersion accepted but the app did not record shows below.
    await app.stop();
    prisma = createPrismaClient(databaseUrl);

    const acceptedIds = new Map<string, number>();
    for (const request of sandbox.orders()) acceptedIds.set(request.orderId!, (acceptedIds.get(request.orderId!) ?? 0) + 1);
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { orderId: true, status: true, attempts: true } });
    const delivered = rows.filter((row) => row.status === "delivered");
    const deliveredIds = new Set(delivered.map((row) => row.orderId));
    const stats = sandbox.stats();
    const sorted = [...latencies].sort((a, b) => a - b);
    // The access log has the time the server spent on each request: set beside the time the
    // sender waited, it tells queueing (machine, event loop) from work in the handler.
    const handlerMs = app
      .output()
      .flatMap((line) => {
        if (!line.includes('"msg":"request"')) return [];
        const entry = JSON.parse(line) as { method?: string; path?: string; durationMs?: number };
        return entry.method === "POST" && entry.path === "/webhooks/orders/create" && typeof entry.durationMs === "number" ? [entry.durationMs] : [];
      })
      .sort((a, b) => a - b);

    const results = {
      sent: webhooks.length,
      orders: unique.size,
      acknowledged: statuses.get("200") ?? 0,
      notAcknowledged: Object.fromEntries([...statuses].filter(([status]) => status !== "200")),
      ackLatencyMs: { p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)), max: Math.round(sorted.at(-1) ?? 0) },
      handlerMs: { p50: Math.round(percentile(handlerMs, 50)), p99: Math.round(percentile(handlerMs, 99)), max: Math.round(handlerMs.at(-1) ?? 0) },
      overFiveSeconds: latencies.filter((ms) => ms >= ACK_LIMIT_MS).length,
      slowest: [...timeline]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([at, ms]) => `${Math.round(ms)} ms, sent at ${at.toFixed(1)} s`),
      deliveryRows: rows.length,
      delivered: delivered.length,
      acceptedByRefersion: acceptedIds.size,
      duplicates: [...acceptedIds.values()].filter((count) => count > 1).length,
      lost: [...unique].filter((id) => !deliveredIds.has(id) || !acceptedIds.has(id)).length,
      unexpected: [...acceptedIds.keys()].filter((id) => !unique.has(id)).length,
      refersionRequests: stats.total,
      refersionFailures: stats.total - stats.accepted,
      retriedOrders: rows.filter((row) => row.attempts > 1).length,
      maxAttempts: Math.max(0, ...rows.map((row) => row.attempts)),
      sendingSeconds: Number(sendingSeconds.toFixed(1)),
      drainedSeconds: Number(drainedSeconds.toFixed(1)),
    };
    console.log(JSON.stringify(results, null, 2));

    const broken: string[] = [];
    if (results.acknowledged !== results.sent) broken.push(`${results.sent - results.acknowledged} webhook(s) not acknowledged with 200`);
    if (results.overFiveSeconds > 0) broken.push(`${results.overFiveSeconds} acknowledgement(s) took 5 s or more`);
    if (results.deliveryRows !== results.orders) broken.push(`${results.deliveryRows} Delivery rows for ${results.orders} orders`);
    if (results.delivered !== results.orders) broken.push(`${results.orders - results.delivered} order(s) not delivered`);
    if (results.duplicates > 0) broken.push(`${results.duplicates} order(s) accepted by Refersion more than once`);
    if (results.lost > 0) broken.push(`${results.lost} order(s) lost`);
    if (results.unexpected > 0) broken.push(`${results.unexpected} order(s) Refersion received that were never sent`);
    // Whole words: a generated id ("…dqahfatal") is not a crash.
    const crashes = app.output().filter((line) => /\buncaught\b|\bunhandled\b|\bFATAL\b|"level":"error"/i.test(line));
    if (crashes.length > 0) broken.push(`${crashes.length} error line(s) from the app, first: ${crashes[0].slice(0, 300)}`);
    if (broken.length > 0) {
      for (const problem of broken) log(`BROKEN: ${problem}`);
      log(`the run's files are kept in ${runDir}`);
      return 1;
    }
    ok = true;
    log("every promise kept");
    return 0;
  } finally {
    await prisma?.$disconnect();
    await app.stop();
    await sandbox.close();
    if (ok) fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
