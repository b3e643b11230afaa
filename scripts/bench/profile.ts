/**
 * CPU profile of the app under one benchmark workload, to find what limits it:
 *   npx tsx scripts/bench/profile.ts intake     signed orders/create at full speed, worker idle
 *   npx tsx scripts/bench/profile.ts delivery   the worker draining a filled outbox to a fast stand-in
 *   npx tsx scripts/bench/profile.ts summarize FILE.cpuprofile [top]
 * The production build runs under `node --cpu-prof`; the profile is written to
 * bench-results/profiles/ (open it in Chrome DevTools > Performance) and summarized here: self
 * time by package and the functions with the most self time, and the time spent under each
 * frame of the app's own code (inclusive).
 * BENCH_PROFILE=off runs the same workload without the profiler, for quick A/B comparisons
 * (throughput and the server's CPU ms per request, from /proc); BENCH_RATE=N sends intake at a
 * fixed N webhooks/s instead of full speed. BENCH_NODE_ARGS="--flag ..." passes flags to the app's
 * Node (to compare V8 settings); BENCH_APP_ENV="NAME=value,..." adds variables to the app's
 * environment (the app gets only the ones set here, not the caller's).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createClient } from "@libsql/client";
import { DEFAULT_SANDBOX_KEYS } from "../refersion-sandbox";
import { fixedRate, fullSpeed } from "./load";
import { BENCH_SHOP, WEBHOOK_PATH, createWebhookSource } from "./orders";
import { summarizeProfile } from "./cpu-profile";
import { ROOT, killAllChildren, startApp, startSandbox, type Child } from "./processes";

const workload = process.argv[2];
if (workload === "summarize" && process.argv[3]) {
  console.log(summarizeProfile(process.argv[3], Number(process.argv[4] ?? 25)));
  process.exit(0);
}
if (workload !== "intake" && workload !== "delivery") {
  console.error("Usage: npx tsx scripts/bench/profile.ts intake|delivery [seconds-or-orders]\n       npx tsx scripts/bench/profile.ts summarize FILE.cpuprofile [top]");
  process.exit(2);
}
const amount = Number(process.argv[3] ?? (workload === "intake" ? 10 : 3_000));

const DIR = path.join(ROOT, "bench-results", "profiles");
const WORK = path.join(ROOT, "bench-results", "work-profile");
const secret = `profile-secret-${crypto.randomBytes(8).toString("hex")}`;

/**
 * The worker makes one pass at start and the next an hour later: orders stay in the outbox.
 * DELIVERY_WORKER=off is refused on a SQLite file (it serves one process).
 */
const IDLE_WORKER = { DELIVERY_POLL_MS: String(60 * 60 * 1000) };

function env(db: string, sandbox: Child, extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: "production",
    SHOPIFY_API_KEY: "bench-api-key",
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: "https://bench-app.invalid",
    SCOPES: "read_orders,read_themes",
    DATABASE_URL: `file:${db}`,
    APP_ENCRYPTION_KEY: "1".repeat(64),
    REFERSION_WEBHOOK_URL: `${sandbox.url}/tracker/orders/paid`,
    REFERSION_API_URL: `${sandbox.url}/v2`,
    LOG_LEVEL: "info",
    ...Object.fromEntries((process.env.BENCH_APP_ENV ?? "").split(",").filter(Boolean).map((pair) => pair.split("=", 2) as [string, string])),
    ...extra,
  };
}

/** The first row of a query on the SQLite file, read while no app process uses it. */
async function query(db: string, sql: string) {
  const client = createClient({ url: `file:${db}` });
  try {
    return (await client.execute(sql)).rows[0];
  } finally {
    client.close();
  }
}

async function main() {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(DIR, { recursive: true });
  const sandbox = await startSandbox();
  const db = path.join(WORK, "profile.sqlite");
  const base = { ...process.env, ...env(db, sandbox, {}) };
  execFileSync("npx", ["prisma", "migrate", "deploy"], { cwd: ROOT, env: base, stdio: "ignore" });
  execFileSync(
    process.execPath,
    ["--import", "tsx", "scripts/shop-cli.ts", "configure", BENCH_SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"],
    { cwd: ROOT, env: { ...base, REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey }, stdio: "ignore" },
  );
  const source = createWebhookSource({ secret, firstId: 9_000_000_000_000 });
  const next = () => source.next();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  // Each thread of the app writes its own profile there (Node's names end in .PID.THREAD.SEQ); the main thread's is summarized.
  const runDir = path.join(DIR, `${workload}-${stamp}`);
  const profiling = process.env.BENCH_PROFILE !== "off";
  const profArgs = [
    ...(profiling ? ["--cpu-prof", `--cpu-prof-dir=${runDir}`] : []),
    ...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean),
  ];
  try {
    if (workload === "intake") {
      const app = await startApp("app (profiled)", env(db, sandbox, IDLE_WORKER), path.join(WORK, "app.log"), { nodeArgs: profArgs });
      // BENCH_RATE=N: an open loop at N webhooks/s instead of full speed, after a warm-up.
      const rate = Number(process.env.BENCH_RATE ?? 0);
      if (rate) await fixedRate({ url: app.url + WEBHOOK_PATH, rate: rate / 2, durationS: 5, next });
      const cpuBefore = app.cpuMs();
      const webCpuBefore = app.mainThreadCpuMs();
      const startedRssMiB = app.peakRssMiB();
      const result = rate
        ? await fixedRate({ url: app.url + WEBHOOK_PATH, rate, durationS: amount, next })
        : await fullSpeed({ url: app.url + WEBHOOK_PATH, connections: 32, durationS: amount, next });
      const cpuPerRequest = (app.cpuMs() - cpuBefore) / Math.max(1, result.ok);
      const webCpuPerRequest = (app.mainThreadCpuMs() - webCpuBefore) / Math.max(1, result.ok);
      console.log(
        `intake: ${result.throughput}/s, p99 ${result.latencyMs.p99} ms, ${result.errors} errors, ` +
          `${cpuPerRequest.toFixed(2)} CPU ms/request (web thread ${webCpuPerRequest.toFixed(2)}), ` +
          `peak memory ${app.peakRssMiB()} MiB (${startedRssMiB} MiB before the load)`,
      );
      await app.stop();
    } else {
      const filler = await startApp("app (fill)", env(db, sandbox, IDLE_WORKER), path.join(WORK, "fill.log"));
      await fullSpeed({ url: filler.url + WEBHOOK_PATH, connections: 32, durationS: 120, amount, next });
      await filler.stop();
      const pending = Number((await query(db, "SELECT count(*) AS n FROM Delivery WHERE status = 'pending'")).n);
      const worker = await startApp("worker (profiled)", env(db, sandbox, { DELIVERY_CONCURRENCY: process.env.DELIVERY_CONCURRENCY ?? "8" }), path.join(WORK, "worker.log"), { nodeArgs: profArgs });
      // Followed through the stand-in: the database file is the app's alone until it stops.
      const started = Date.now();
      for (;;) {
        const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as { accepted: number };
        if (stats.accepted >= pending || Date.now() - started > 120_000) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await worker.stop();
      const { first, last, n } = await query(
        db,
        "SELECT (SELECT min(startedAt) FROM DeliveryAttempt) AS first, max(deliveredAt) AS last, count(*) AS n FROM Delivery WHERE status = 'delivered'",
      );
      const seconds = (Date.parse(String(last)) - Date.parse(String(first))) / 1000;
      console.log(`delivery: ${n} delivered in ${seconds.toFixed(2)} s = ${(Number(n) / seconds).toFixed(1)} orders/s`);
    }
  } finally {
    await sandbox.stop();
  }
  if (!profiling) return;
  const written = fs.existsSync(runDir) ? fs.readdirSync(runDir).filter((name) => name.endsWith(".cpuprofile")) : [];
  const main = written.find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (!main) throw new Error(`No profile of the main thread was written in ${runDir}; did the app exit cleanly?`);
  const file = path.join(runDir, main);
  console.log(`profiles: ${path.relative(ROOT, runDir)} (${written.length} threads); the main thread's: ${main}\n`);
  console.log(summarizeProfile(file));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    killAllChildren();
    process.exit(1);
  },
);
