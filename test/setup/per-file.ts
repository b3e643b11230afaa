import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { TEST_ENV } from "../support/test-env";

// Each test file gets its own copy of the migrated database, never the dev database.
const runDir = process.env.TEST_RUN_DIR;
if (!runDir) throw new Error("TEST_RUN_DIR is not set: run the tests through vitest (test/setup/global-setup.ts)");
const databaseFile = path.join(runDir, `file-${process.env.VITEST_POOL_ID ?? "0"}-${crypto.randomUUID()}.sqlite`);
fs.copyFileSync(path.join(runDir, "base.sqlite"), databaseFile);

Object.assign(process.env, TEST_ENV, { DATABASE_URL: `file:${databaseFile}` });
