/**
 * Importing the server build starts nothing in the background: server/app-server.mjs and
 * server/worker.mjs start delivery, backfill and maintenance explicitly (startBackgroundWork), and
 * stop them in order. Checked on the production build in a process of its own.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freshDatabaseUrl, SERVER_BUILD } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";

const run = promisify(execFile);

const SCRIPT = `
const build = await import(${JSON.stringify(`file://${SERVER_BUILD}`)});
const entry = build.entry.module;
const before = entry.runningDeliveryWorker();
const started = entry.startBackgroundWork();
const again = entry.startBackgroundWork();
const running = started.isRunning();
await entry.stopBackgroundWork();
console.log(JSON.stringify({ before, started: started !== null, once: started === again, running, after: started.isRunning() }));
process.exit(0);
`;

describe("background work of an app process", () => {
  it("does not start when the build is imported, starts once when asked, and stops in order", async () => {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      env: { ...process.env, ...TEST_ENV, DATABASE_URL: freshDatabaseUrl(), DELIVERY_WORKER: "on" },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(report).toEqual({ before: null, started: true, once: true, running: true, after: false });
  }, 90_000);
});
