/**
 * The fast path's writer thread as server/append-thread.mjs starts it, from the TypeScript
 * sources instead of the bundle (the thread runs under tsx: see test/database/append-thread.test.ts).
 */
import { parentPort, workerData } from "node:worker_threads";

const turns = await import("../../app/database/write-turns.ts");
const thread = await import("../../app/database/append-thread.ts");
turns.shareWriteTurns(workerData.writeTurns);
thread.serveAppends(parentPort, workerData);
parentPort.postMessage({ ready: true });
