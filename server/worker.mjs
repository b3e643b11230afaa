#!/usr/bin/env node
/**
 * The delivery worker on its own, without the web server: `npm run worker`.
 *
 * Web processes started with DELIVERY_WORKER=off then only acknowledge webhooks and serve the
 * admin, and the worker's CPU (and its database writes) no longer delay acknowledgements
 * (docs/deployment.md). PostgreSQL only: on a SQLite file it refuses to start, as SQLite serves
 * one process (`npm start`, worker inside). It runs the production build, so it needs
 * `npm run build` first and the same environment as the web processes (DATABASE_URL, keys).
 * This process also runs "resend past orders" jobs and the hourly retention, as a web process
 * with the worker on does. SIGTERM or SIGINT: deliveries in flight finish, then it exits.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { unlessRefused } from "./start-up-refusals.mjs";

// The worker is this process's only job, whatever a shared environment file says for the web.
process.env.DELIVERY_WORKER = "on";

const buildPath = path.resolve(process.argv[2] ?? "build/server/index.js");
const build = await unlessRefused(() => import(pathToFileURL(buildPath).href));
const { refuseSqliteSharedBetweenProcesses, runningDeliveryWorker, startBackgroundWork, stopBackgroundWork } = build.entry.module;
// A worker beside the web server needs PostgreSQL: SQLite serves one process.
await unlessRefused(() => {
  refuseSqliteSharedBetweenProcesses("worker");
  startBackgroundWork();
});
if (!runningDeliveryWorker()) {
  console.error(`${buildPath} did not start a delivery worker`);
  process.exit(1);
}
console.log(JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "worker process ready", pid: process.pid }));

/** Longer than a Refersion request (REFERSION_TIMEOUT_MS, 15 s by default); orchestrators usually wait 30 s. */
const STOP_DEADLINE_MS = 25_000;

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    // A stop stuck on a slow read must not outlast the orchestrator's patience: leases cover it.
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    stopBackgroundWork().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
