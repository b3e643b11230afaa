#!/usr/bin/env node
/**
 * The production web server: `npm start`. It serves the Remix build as remix-serve would
 * (Express, compression, the hashed client assets), with four differences that matter here:
 *  - it listens on the PORT and HOST the app parsed and validated at start-up (app/env.server.ts),
 *    and fails if that port is taken instead of quietly choosing another one;
 *  - its access log is the app's JSON log, with the path only: the query strings Shopify opens
 *    the app with carry session tokens, and OAuth callbacks carry codes, which must not be logged;
 *  - request bodies are read by server/request-bodies.mjs, each route within its limit and all of
 *    them together within a budget (413, or 503 with Retry-After, before the app sees them);
 *  - SIGTERM / SIGINT stop it in order: no new connections, deliveries in flight finish (or their
 *    leases lapse), then the process exits, within a deadline an orchestrator will wait for.
 * It starts the background work (delivery worker, backfill, maintenance) itself, unless
 * DELIVERY_WORKER=off. `npm run dev` runs it too (`remix dev -c`, shopify.web.toml): the dev server
 * restarts it after each rebuild and waits for its "ready" line.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler, installGlobals, logDevReady } from "@remix-run/node";
import compression from "compression";
import express from "express";
import { createBodyReader, createBufferedRequestHandler } from "./request-bodies.mjs";
import { unlessRefused } from "./start-up-refusals.mjs";

const buildPath = path.resolve(process.argv[2] ?? "build/server/index.js");
const build = await unlessRefused(() => import(pathToFileURL(buildPath).href));
installGlobals({ nativeFetch: build.future.v3_singleFetch });
const {
  BUSY_RETRY_AFTER_SECONDS,
  IN_FLIGHT_BODY_BYTES,
  bodyLimitFor,
  listenAddress,
  logRequest,
  logRefusedBody,
  refuseSqliteSharedBetweenProcesses,
  startBackgroundWork,
  stopBackgroundWork,
} = build.entry.module;
// SQLite serves this one process only: DELIVERY_WORKER=off on a SQLite file is refused.
await unlessRefused(() => {
  refuseSqliteSharedBetweenProcesses("web");
  startBackgroundWork();
});

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
app.use(bodies.readBody);
app.all("*", createBufferedRequestHandler({ build, mode: process.env.NODE_ENV, createRequestHandler }));

const { port, host } = listenAddress();
const server = app.listen(port, host, () => {
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
    Promise.all([closed, stopBackgroundWork()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
