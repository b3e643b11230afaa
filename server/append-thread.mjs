/**
 * `npm start`'s writer thread: the webhooks' fast path appends there, so that SQLite's commits,
 * which wait for the disk, never stop the web server's thread (app/database/append-thread.ts).
 * Started by server/app-server.mjs on its own small bundle (build/append-thread/index.js, made by
 * `npm run build`), not the server build; a bundle built beside another server build is refused.
 */
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

const modules = await import(pathToFileURL(workerData.bundlePath).href);
if (modules.serverBuildSha256 !== workerData.serverBuildSha256) {
  throw new Error(`${workerData.bundlePath} was not built beside the server build (a stale or unfinished build): run \`npm run build\`, which builds both`);
}
modules.shareWriteTurns(workerData.writeTurns);
modules.serveAppends(parentPort, workerData);
parentPort.postMessage({ type: "ready" });
