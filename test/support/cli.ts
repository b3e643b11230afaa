import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { TEST_ENV } from "./test-env";

const run = promisify(execFile);

/**
 * Runs `npm run -s shop -- ARGS` (through tsx, as npm would) with exactly `env` besides PATH,
 * `input` on its standard input (closed either way, as a pipe with nothing behind it would be).
 */
export async function runShopCli(args: string[], env: Record<string, string>, input = "") {
  const childEnv: Partial<NodeJS.ProcessEnv> = { PATH: process.env.PATH ?? "", ...env };
  // Remix's typings make NODE_ENV required; a shop command also runs without it (its default applies).
  const running = run(process.execPath, ["--import", "tsx", "scripts/shop-cli.ts", ...args], { env: childEnv as NodeJS.ProcessEnv });
  running.child.stdin?.end(input);
  return running;
}

/** `npm run -s shop -- ARGS` in the test environment against a database, plus `extra` variables. */
export async function shopCli(args: string[], databaseUrl: string, extra: Record<string, string> = {}) {
  return runShopCli(args, { ...TEST_ENV, DATABASE_URL: databaseUrl, ...extra });
}
