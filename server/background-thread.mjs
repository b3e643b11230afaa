/**
 * `npm start`'s background work (delivery, acting on received webhooks, backfill, maintenance) in
 * a worker thread of the web server's process: its CPU and its database work never hold up the
 * event loop that acknowledges webhooks (docs/decisions/0014-webhook-intake-fast-path.md). It
 * is still one process on a SQLite file (docs/decisions/0009-sqlite-single-process.md): the
 * thread has its own connection, and the two wait for each other's write lock, each on its own
 * thread. Started and stopped by server/app-server.mjs; it reports its worker's health there.
 */
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { installGlobals } from "@remix-run/node";

const build = await import(pathToFileURL(workerData.buildPath).href);
installGlobals({ nativeFetch: build.future.v3_singleFetch });
const { shareWriteTurns, startBackgroundWork, stopBackgroundWork } = build.entry.module;
shareWriteTurns(workerData.writeTurns);

/** How often the web server hears how the worker is doing (its health check reads that). */
const REPORT_EVERY_MS = 1_000;

const worker = startBackgroundWork();
const report = () =>
  parentPort.postMessage({ type: "report", running: worker?.isRunning() ?? false, lastRunAt: worker?.lastRunAt()?.toISOString() ?? null });
report();
const reporting = setInterval(report, REPORT_EVERY_MS);

parentPort.on("message", (message) => {
  if (message?.type !== "stop") return;
  clearInterval(reporting);
  // Deliveries in flight finish (or their leases lapse), as in a process of its own.
  stopBackgroundWork().then(
    () => {
      report();
      parentPort.postMessage({ type: "stopped" });
      parentPort.close();
    },
    (error) => {
      parentPort.postMessage({ type: "stopped", error: error instanceof Error ? error.message : String(error) });
      parentPort.close();
    },
  );
});
