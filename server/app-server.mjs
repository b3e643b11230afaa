#!/usr/bin/env node
/**
 * The production web server: `npm start`. It serves the Remix build as remix-serve would
 * (Express, compression, the hashed client assets), with these differences that matter here:
 *  - it listens on the PORT and HOST the app parsed and validated at start-up (app/env.server.ts),
 *    and fails if that port is taken instead of quietly choosing another one;
 *  - its access log is the app's JSON log, with the path only: the query strings Shopify opens
 *    the app with carry session tokens, and OAuth callbacks carry codes, which must not be logged;
 *  - request bodies are read by server/request-bodies.mjs, each route within its limit and all of
 *    them together within a budget (413, or 503 with Retry-After, before the app sees them);
 *  - SIGTERM / SIGINT stop it in order: no new connections, deliveries in flight finish (or their
 *    leases lapse), then the process exits, within a deadline an orchestrator will wait for;
 *  - the order webhooks' fast path (app/webhooks/fast-intake.server.ts) is served here, ahead of
 *    Express and Remix: verified, appended and acknowledged; anything else it hands to the app;
 *  - admin requests run in Remix one at a time (ADMIN_REQUESTS_IN_FLIGHT), so that rendering
 *    pages never keeps the webhooks waiting (docs/decisions/0014-webhook-intake-fast-path.md).
 * It starts the background work (delivery worker, acting on received webhooks, backfill,
 * maintenance) in a worker thread of its own (server/background-thread.mjs), unless
 * DELIVERY_WORKER=off. `npm run dev` runs it too (`remix dev -c`, shopify.web.toml): the dev server
 * restarts it after each rebuild and waits for its "ready" line.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { createRequestHandler, installGlobals, logDevReady } from "@remix-run/node";
import compression from "compression";
import express from "express";
import { createAdmission, createBodyReader, createBufferedRequestHandler, routedPath } from "./request-bodies.mjs";
import { unlessRefused } from "./start-up-refusals.mjs";

const buildPath = path.resolve(process.argv[2] ?? "build/server/index.js");
const build = await unlessRefused(() => import(pathToFileURL(buildPath).href));
installGlobals({ nativeFetch: build.future.v3_singleFetch });
const {
  ADMIN_REQUESTS_IN_FLIGHT,
  appendThreadOptions,
  appendThroughThread,
  BUSY_RETRY_AFTER_SECONDS,
  FAST_INTAKE_BODY_BYTES,
  backgroundWorkWanted,
  createWriteTurns,
  IN_FLIGHT_BODY_BYTES,
  bodyLimitFor,
  fastIntakeTopic,
  listenAddress,
  logRequest,
  logRefusedBody,
  receiveOnFastPath,
  refuseSqliteSharedBetweenProcesses,
  reportBackgroundThread,
  shareWriteTurns,
  skipsAdminQueue,
} = build.entry.module;
// SQLite serves this one process only: DELIVERY_WORKER=off on a SQLite file is refused.
await unlessRefused(() => refuseSqliteSharedBetweenProcesses("web"));

/**
 * The modules the background thread loads: the bundle `npm run build` makes beside the server
 * build (build/background/index.js, only what the thread runs: docs/decisions/0020-background-thread-bundle.md),
 * which must have been built beside this very server build; under `npm run dev`, the server build
 * itself, which the dev server rebuilds on every change.
 */
function backgroundThreadModules() {
  if (process.env.NODE_ENV === "development") return { serverBuildPath: buildPath };
  const backgroundBuildPath = path.join(path.dirname(path.dirname(buildPath)), "background", "index.js");
  if (!fs.existsSync(backgroundBuildPath)) {
    console.error(`${backgroundBuildPath} is missing: \`npm run build\` builds it beside ${buildPath}.`);
    process.exit(1);
  }
  const serverBuildSha256 = crypto.createHash("sha256").update(fs.readFileSync(buildPath)).digest("hex");
  return { backgroundBuildPath, serverBuildPath: buildPath, serverBuildSha256 };
}

/**
 * The background work runs in a worker thread (server/background-thread.mjs), so that it never
 * delays an acknowledgement. If the thread dies the process exits: an orchestrator restarts it,
 * rather than a server that takes orders nobody delivers.
 */
function startBackgroundThread() {
  let stopping = false;
  // Until the thread's first report: starting, like a worker that has not completed a pass yet.
  reportBackgroundThread({ running: true, lastRunAt: null });
  const thread = new Worker(new URL("./background-thread.mjs", import.meta.url), {
    workerData: { ...backgroundThreadModules(), writeTurns },
  });
  let started;
  const ready = new Promise((resolve) => (started = resolve));
  thread.on("message", (message) => {
    if (message?.type !== "report") return;
    reportBackgroundThread(message);
    started();
  });
  thread.on("error", (error) => {
    console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "background work failed", error: error.message }));
  });
  thread.on("exit", (code) => {
    if (stopping) return;
    console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "background work stopped unexpectedly; exiting", code }));
    process.exit(1);
  });
  return {
    /** Resolves once the thread has started its work (its first report). */
    ready,
    stop: () =>
      new Promise((resolve) => {
        stopping = true;
        thread.once("exit", resolve);
        thread.postMessage({ type: "stop" });
      }),
  };
}
// Both threads' SQLite connections take turns to write (app/database/sqlite-adapter.ts).
const writeTurns = createWriteTurns();
shareWriteTurns(writeTurns);
const background = backgroundWorkWanted() ? startBackgroundThread() : null;
// Ready means ready to deliver too: the server listens once the background work has started.
await background?.ready;

/**
 * The fast path's writer thread (server/append-thread.mjs), SQLite only: the webhooks' group
 * commits wait for the disk there, not on this thread. It loads the bundle `npm run build` makes
 * beside the server build (build/append-thread/index.js), refused unless built beside this very
 * server build. Under `npm run dev` the appends stay on this thread. If the thread dies the
 * process exits, as for the background thread: no webhook would be acknowledged any more.
 */
async function startAppendThread() {
  const options = appendThreadOptions();
  if (!options || process.env.NODE_ENV === "development") return;
  const bundlePath = path.join(path.dirname(path.dirname(buildPath)), "append-thread", "index.js");
  if (!fs.existsSync(bundlePath)) {
    console.error(`${bundlePath} is missing: \`npm run build\` builds it beside ${buildPath}.`);
    process.exit(1);
  }
  const serverBuildSha256 = crypto.createHash("sha256").update(fs.readFileSync(buildPath)).digest("hex");
  const thread = new Worker(new URL("./append-thread.mjs", import.meta.url), { workerData: { ...options, bundlePath, serverBuildSha256, writeTurns } });
  // It serves this thread's requests only; it never keeps the process alive by itself.
  thread.unref();
  thread.on("error", (error) => {
    console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "the webhooks' writer thread failed", error: error.message }));
  });
  thread.on("exit", (code) => {
    console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "the webhooks' writer thread stopped unexpectedly; exiting", code }));
    process.exit(1);
  });
  await new Promise((resolve) => thread.once("message", resolve));
  appendThroughThread(thread);
}
await startAppendThread();

const app = express();
app.disable("x-powered-by");
app.use(compression());
app.use(build.publicPath, express.static(build.assetsBuildDirectory, { immutable: true, maxAge: "1y" }));
app.use((request, response, next) => {
  const started = process.hrtime.bigint();
  response.once("finish", () => {
    logRequest({
      method: request.method,
      path: request.path,
      status: response.statusCode,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    });
  });
  next();
});
// Bodies are read here, within each route's limit and a budget for all requests together.
const bodies = createBodyReader({ bodyLimitFor, budgetBytes: IN_FLIGHT_BODY_BYTES, retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS, onRefused: logRefusedBody });
// Machines' requests (webhooks, conversion webhooks, the pixel's reports) and the health check are
// never held behind admin pages (skipsAdminQueue, app/body-limits.server.ts).
const admitAdmin = createAdmission(ADMIN_REQUESTS_IN_FLIGHT);
app.use((request, response, next) => (skipsAdminQueue(routedPath(request)) ? next() : admitAdmin(request, response, next)));
app.use(bodies.readBody);
app.all("*", createBufferedRequestHandler({ build, mode: process.env.NODE_ENV, createRequestHandler }));

/**
 * An order webhook on the fast path: its body read within the budget, then verified, appended
 * and answered 200 once committed; a request it does not take goes to the app with that body.
 */
function receiveFast(request, response, topic) {
  const started = process.hrtime.bigint();
  const declared = request.headers["content-length"];
  // Without a declared length, or over the limit: the route reads it (and answers 413).
  if (declared === undefined || !(Number(declared) <= FAST_INTAKE_BODY_BYTES)) return app(request, response);
  const answer = (status, headers = {}) => {
    response.writeHead(status, headers).end();
    logRequest({ method: "POST", path: routedPath(request), status, durationMs: Number(process.hrtime.bigint() - started) / 1e6 });
  };
  bodies.readBody(request, response, (error) => {
    if (error) return response.destroy();
    receiveOnFastPath(topic, request.headers, request.bufferedBody).then(
      (status) => {
        if (status === null) app(request, response);
        else answer(status, status === 503 ? { "Retry-After": String(BUSY_RETRY_AFTER_SECONDS) } : {});
      },
      // Not expected (it answers 503 itself when the database fails); Shopify sends it again.
      () => response.destroy(),
    );
  });
}

const server = http.createServer((request, response) => {
  const topic = request.method === "POST" ? fastIntakeTopic(routedPath(request)) : null;
  if (topic) receiveFast(request, response, topic);
  else app(request, response);
});
const { port, host } = listenAddress();
server.listen(port, host, () => {
  const address = server.address();
  console.log(JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "server listening", host, port: address.port, pid: process.pid }));
  // `remix dev` waits for this line before it reloads the browser.
  if (process.env.NODE_ENV === "development") logDevReady(build);
});
// A request must arrive whole within this time: a slow sender holds its share of the body budget.
server.requestTimeout = 30_000;
server.once("error", (error) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "server could not start", error: error.message }));
  process.exit(1);
});

/** Longer than a Refersion request (REFERSION_TIMEOUT_MS, 15 s by default); orchestrators usually wait 30 s. */
const STOP_DEADLINE_MS = 25_000;

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    // Requests in progress finish; idle keep-alive connections would hold the server open.
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    Promise.all([closed, background?.stop()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
