import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { TEST_ENV } from "./test-env";

const run = promisify(execFile);

/** Runs `npm run -s shop -- ARGS` (through tsx, as npm would) against a database. */
export async function shopCli(args: string[], databaseUrl: string) {
  return run(process.execPath, ["--import", "tsx", "scripts/shop-cli.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", ...TEST_ENV, DATABASE_URL: databaseUrl },
  });
}
