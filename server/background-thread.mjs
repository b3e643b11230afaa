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

/**
 * The thread's modules (server/app-server.mjs chooses): the background bundle, refused unless it
 * was built beside the web thread's server build, so that a stale one never runs beside newer
 * routes; under `npm run dev`, the server build itself, which exports the same names.
 */
async function threadModules({ backgroundBuildPath, serverBuildPath, serverBuildSha256 }) {
  if (!backgroundBuildPath) return (await import(pathToFileURL(serverBuildPath).href)).entry.module;
  const modules = await import(pathToFileURL(backgroundBuildPath).href);
  if (modules.serverBuildSha256 !== serverBuildSha256) {
    throw new Error(`${backgroundBuildPath} was not built beside ${serverBuildPath} (a stale or unfinished build): run \`npm run build\`, which builds both`);
  }
  return modules;
}

// Node's own fetch serves this thread's calls (Refersion, Shopify's Admin API), as in the tests:
// Remix's globals, which the web thread installs for its requests, would load @remix-run/node here.
const modules = await threadModules(workerData);
const { lowerThisThreadsCpuPriority, shareWriteTurns, startBackgroundWork, stopBackgroundWork } = modules;
shareWriteTurns(workerData.writeTurns);
// The acknowledgements go first when both threads want the CPU (app/background/thread-priority.server.ts).
lowerThisThreadsCpuPriority();

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
