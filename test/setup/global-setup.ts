import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const TEST_CACHE_DIR = path.resolve(".cache/test");
export const BASE_DATABASE = path.join(TEST_CACHE_DIR, "base.sqlite");

/** Migrates one SQLite file that every test file then copies, instead of migrating per test. */
export default function setup() {
  fs.rmSync(TEST_CACHE_DIR, { recursive: true, force: true });
  fs.mkdirSync(TEST_CACHE_DIR, { recursive: true });
  execFileSync("npx", ["prisma", "migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: `file:${BASE_DATABASE}` },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (!fs.existsSync(BASE_DATABASE)) throw new Error(`Migrating the test database failed: ${BASE_DATABASE} is missing`);
}
