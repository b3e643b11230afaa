import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startAppProcess, type AppProcess } from "../../scripts/app-process";
import { TEST_ENV } from "./test-env";

export { SERVER_BUILD } from "../../scripts/app-process";
export type ProductionApp = AppProcess;

/** A migrated SQLite file of this test run, for a server process to use. */
export function freshDatabaseUrl(): string {
  const runDir = process.env.TEST_RUN_DIR;
  if (!runDir) throw new Error("TEST_RUN_DIR is not set: run through vitest");
  const file = path.join(runDir, `app-${crypto.randomUUID()}.sqlite`);
  fs.copyFileSync(path.join(runDir, "base.sqlite"), file);
  return `file:${file}`;
}

/** The worker makes its one pass at start and the next an hour later: rows keep the states a test gives them. */
export const IDLE_WORKER = { DELIVERY_POLL_MS: String(60 * 60 * 1000) } as const;

/**
 * Runs the production build as `npm start` does (scripts/app-process.ts) with the test environment
 * plus `env`: the delivery worker on (SQLite requires it; IDLE_WORKER keeps it idle), info logs.
 * `shopifyAdminStandinUrl` reroutes the app's calls to Shopify to that stand-in.
 */
export function startProductionApp(env: Record<string, string>, options: { shopifyAdminStandinUrl?: string } = {}): Promise<ProductionApp> {
  return startAppProcess({
    env: { ...TEST_ENV, NODE_ENV: "production", DELIVERY_WORKER: "on", LOG_LEVEL: "info", ...env },
    shopifyAdminStandinUrl: options.shopifyAdminStandinUrl,
  });
}
