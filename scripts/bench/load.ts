/**
 * Load generators for signed webhooks, both on 127.0.0.1 and bounded in time.
 *
 * - `fixedRate`: an open loop, like Shopify: requests leave on a fixed schedule whether or not
 *   earlier ones were answered, over as many keep-alive connections as needed. (autocannon's
 *   overallRate sends each connection's quota back to back at the start of every second, which
 *   measures bursts rather than a steady rate.) Latency runs from writing the request to the
 *   end of the response.
 * - `fullSpeed`: autocannon, a closed loop of N connections each sending its next request as
 *   soon as the previous one is answered: the most the server can take.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import { createRequire } from "node:module";
import autocannon, { type Options as AutocannonOptions, type Result as AutocannonResult } from "autocannon";
import type { SignedWebhook } from "./orders";

const AUTOCANNON_CLI = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

export interface LoadResult {
  mode: "fixed-rate" | "full-speed";
  /** Requested rate (fixed-rate) or connections (full-speed). */
  targetRate: number | null;
  connections: number | null;
  durationS: number;
  sent: number;
  /** 2xx answers. */
  ok: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  /** 2xx answers per second of the run. */
  throughput: number;
  /** Ack latency: from sending a request to the end of its answer, whatever the status. */
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function summarize(latencies: number[]) {
  const sorted = Float64Array.from(latencies).sort();
  const values = Array.from(sorted);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.at(-1) ?? NaN),
    mean: round(values.reduce((sum, value) => sum + value, 0) / (values.length || 1)),
  };
}

export interface FixedRateOptions {
  url: string;
  rate: number;
  durationS: number;
  next: () => SignedWebhook;
  /** How long to wait for answers after the last request left. Default 20 s. */
  drainTimeoutMs?: number;
}

export async function fixedRate(options: FixedRateOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2_048 });
  const target = new URL(options.url);
  const total = Math.round(options.rate * options.durationS);
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let settled = 0;
  let allSettled!: () => void;
  const done = new Promise<void>((resolve) => (allSettled = resolve));
  const count = (key: string) => (statusCounts[key] = (statusCounts[key] ?? 0) + 1);
  const finish = () => {
    settled += 1;
    if (settled === total) allSettled();
  };

  const send = () => {
    const webhook = options.next();
    const started = performance.now();
    const request = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers: webhook.headers },
      (response) => {
        response.resume();
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          count(String(status));
          latencies.push(performance.now() - started);
          if (status >= 200 && status < 300) ok += 1;
          else errors += 1;
          finish();
        });
      },
    );
    request.on("error", (error) => {
      count(`error:${(error as NodeJS.ErrnoException).code ?? error.message}`);
      errors += 1;
      finish();
    });
    request.end(webhook.body);
    sent += 1;
  };

  const startedAt = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * options.rate) + 1);
      while (sent < due) send();
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const sendingS = (performance.now() - startedAt) / 1000;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.drainTimeoutMs ?? 20_000).unref());
  await Promise.race([done, timeout]);
  agent.destroy();
  const unanswered = total - settled;
  if (unanswered > 0) {
    statusCounts.unanswered = unanswered;
    errors += unanswered;
  }
  return {
    mode: "fixed-rate",
    targetRate: options.rate,
    connections: null,
    durationS: Math.round(sendingS * 100) / 100,
    sent,
    ok,
    errors,
    statusCounts,
    throughput: Math.round((ok / Math.max(sendingS, options.durationS)) * 10) / 10,
    latencyMs: summarize(latencies),
  };
}

export interface FullSpeedOptions {
  url: string;
  connections: number;
  durationS: number;
  /** Stop after this many requests instead of after durationS. */
  amount?: number;
  next: () => SignedWebhook;
}

export function fullSpeed(options: FullSpeedOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  return closedLoop({
    url: target.origin,
    connections: options.connections,
    duration: options.durationS,
    ...(options.amount ? { amount: options.amount } : {}),
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: target.pathname,
        setupRequest: (request) => {
          const webhook = options.next();
          return { ...request, headers: webhook.headers, body: webhook.body };
        },
      },
    ],
  });
}

/** An autocannon run (a closed loop: each connection sends its next request once answered). */
async function closedLoop(options: AutocannonOptions & { connections: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(options, (error, outcome) => (error ? reject(error) : resolve(outcome)));
    instance.on("response", (_client: unknown, _statusCode: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
  const statusCounts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = count;
  return closedLoopResult(result, summarize(latencies), options.connections, statusCounts);
}

/** A closed-loop run's figures from autocannon's result, its latencies and its answers counted by status. */
function closedLoopResult(
  result: AutocannonResult,
  latencyMs: LoadResult["latencyMs"],
  connections: number,
  statusCounts: Record<string, number>,
): LoadResult {
  // autocannon counts timeouts among errors.
  if (result.errors > result.timeouts) statusCounts["connection errors"] = result.errors - result.timeouts;
  if (result.timeouts) statusCounts.timeouts = result.timeouts;
  const ok = result["2xx"];
  return {
    mode: "full-speed",
    targetRate: null,
    connections,
    durationS: result.duration,
    sent: ok + result.non2xx + result.errors,
    ok,
    errors: result.non2xx + result.errors,
    statusCounts,
    throughput: Math.round((ok / result.duration) * 10) / 10,
    latencyMs,
  };
}

export interface PageLoadOptions {
  /** The page, with its query (the admin's session token in it). */
  url: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

/**
 * GET requests of one page over N connections, each sending its next request as soon as the
 * previous one is answered: N merchants loading the page at once, again and again. Run by
 * autocannon's command line in a process of its own, so that reading the pages does not delay
 * the measurement running beside it in this process (the webhooks' latency).
 */
export async function pageLoads(options: PageLoadOptions): Promise<LoadResult> {
  const args = ["--json", "--no-progress", "-c", String(options.connections), "-d", String(options.durationS), "-t", "30"];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}=${value}`);
  const child = spawn(process.execPath, [AUTOCANNON_CLI, ...args, options.url], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${stderr.slice(-2_000)}`);
  const result = JSON.parse(stdout) as AutocannonResult & {
    latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  };
  const statusCounts: Record<string, number> = {};
  if (result.non2xx) statusCounts["non-2xx"] = result.non2xx;
  // autocannon's command line reports p90, not p95: p95 is left out rather than guessed.
  const latencyMs = { p50: result.latency.p50, p95: NaN, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean };
  return closedLoopResult(result, latencyMs, options.connections, statusCounts);
}
