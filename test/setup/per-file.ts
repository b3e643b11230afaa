import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { TEST_ENV } from "../support/test-env";

// Each test file gets its own copy of the migrated database, never the dev database.
const cacheDir = path.resolve(".cache/test");
const databaseFile = path.join(cacheDir, `file-${process.env.VITEST_POOL_ID ?? "0"}-${crypto.randomUUID()}.sqlite`);
fs.copyFileSync(path.join(cacheDir, "base.sqlite"), databaseFile);

Object.assign(process.env, TEST_ENV, { DATABASE_URL: `file:${databaseFile}` });
