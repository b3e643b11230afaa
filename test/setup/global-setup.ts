import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const CACHE_ROOT = path.resolve(".cache/test");
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

/**
 * Migrates one SQLite file per test run, which every test file then copies. Each run has its
 * own folder (TEST_RUN_DIR, inherited by the test workers) so concurrent runs never collide.
 */
export default function setup() {
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  for (const entry of fs.readdirSync(CACHE_ROOT)) {
    const dir = path.join(CACHE_ROOT, entry);
    if (entry.startsWith("run-") && Date.now() - fs.statSync(dir).mtimeMs > STALE_AFTER_MS) fs.rmSync(dir, { recursive: true, force: true });
  }
  const runDir = fs.mkdtempSync(path.join(CACHE_ROOT, "run-"));
  const baseDatabase = path.join(runDir, "base.sqlite");
  execFileSync("npx", ["prisma", "migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: `file:${baseDatabase}` },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (!fs.existsSync(baseDatabase)) throw new Error(`Migrating the test database failed: ${baseDatabase} is missing`);
  process.env.TEST_RUN_DIR = runDir;
  return () => fs.rmSync(runDir, { recursive: true, force: true });
}
