import fs from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import { migrationScripts } from "../support/migrations";

const CACHE_ROOT = path.resolve(".cache/test");
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

/**
 * Migrates one SQLite file per test run, which every integration test file then copies. Each run
 * has its own folder (TEST_RUN_DIR, inherited by the test workers) so concurrent runs never
 * collide. The migrations' SQL is applied directly, as `prisma migrate deploy` would apply it,
 * without starting Prisma's command line for it; test/database/migrations.test.ts checks the
 * command itself.
 */
export default async function setup() {
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  for (const entry of fs.readdirSync(CACHE_ROOT)) {
    const dir = path.join(CACHE_ROOT, entry);
    if (entry.startsWith("run-") && Date.now() - fs.statSync(dir).mtimeMs > STALE_AFTER_MS) fs.rmSync(dir, { recursive: true, force: true });
  }
  const runDir = fs.mkdtempSync(path.join(CACHE_ROOT, "run-"));
  const baseDatabase = path.join(runDir, "base.sqlite");
  const connection = createClient({ url: `file:${baseDatabase}` });
  try {
    for (const script of migrationScripts(path.resolve("prisma/migrations"))) await connection.executeMultiple(script);
  } finally {
    connection.close();
  }
  process.env.TEST_RUN_DIR = runDir;
  return () => fs.rmSync(runDir, { recursive: true, force: true });
}
