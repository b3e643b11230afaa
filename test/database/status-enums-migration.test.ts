/**
 * The status_enums migration makes ShopSettings.connectionStatus, ShopSettings.offlineAccessProblem
 * and BackfillJob.accessProblem enums, on both providers: values the app wrote stay, anything else
 * (the columns were free text) becomes NULL. Rows are written with the schema as it was before the
 * migration, the migration runs, and the rows are read back.
 */
import crypto from "node:crypto";
import path from "node:path";
import { createClient } from "@libsql/client";
import pg from "pg";
import { migrationsAround, useMigrationWorkspace } from "../support/migrations";
import { PROVIDERS, type Provider } from "./providers";

const MIGRATION = "20261205111108_status_enums";
const { workDir, postgres } = useMigrationWorkspace("status-enums");
const scripts = (provider: Provider) => migrationsAround(provider, MIGRATION);

/** [shop, connectionStatus before, offlineAccessProblem before] -> the same columns after. */
const SETTINGS: [string, string | null, string | null, string | null, string | null][] = [
  ["a.myshopify.com", "valid", "no_session", "valid", "no_session"],
  ["b.myshopify.com", "secret_unreadable", "refresh_token_expired", "secret_unreadable", "refresh_token_expired"],
  ["c.myshopify.com", "plan_unavailable", "migration_refused", "plan_unavailable", "migration_refused"],
  ["d.myshopify.com", "Keys valid", "refresh refused", null, null],
  ["e.myshopify.com", null, null, null, null],
];
/** [job id, accessProblem before, after] */
const JOBS: [string, string | null, string | null][] = [
  ["job1", "refresh_refused", "refresh_refused"],
  ["job2", "expired", null],
  ["job3", null, null],
];

describe.each(PROVIDERS)("the status_enums migration on %s", (provider) => {
  it("keeps the codes the app wrote and clears anything else", async () => {
    const { before, migration } = scripts(provider);
    const insertSettings = `INSERT INTO "ShopSettings" ("shop", "connectionStatus", "offlineAccessProblem", "updatedAt") VALUES ($1, $2, $3, CURRENT_TIMESTAMP)`;
    const insertJob = `INSERT INTO "BackfillJob" ("id", "shop", "since", "accessProblem", "updatedAt") VALUES ($1, 'a.myshopify.com', CURRENT_TIMESTAMP, $2, CURRENT_TIMESTAMP)`;
    const selectSettings = `SELECT "shop", "connectionStatus", "offlineAccessProblem" FROM "ShopSettings" ORDER BY "shop"`;
    const selectJobs = `SELECT "id", "accessProblem" FROM "BackfillJob" ORDER BY "id"`;
    let settings: Record<string, unknown>[];
    let jobs: Record<string, unknown>[];
    if (provider === "sqlite") {
      const db = createClient({ url: `file:${path.join(workDir, "status-enums.sqlite")}` });
      try {
        for (const script of before) await db.executeMultiple(script);
        const positional = (sql: string) => sql.replace(/\$\d/g, "?");
        for (const [shop, connection, problem] of SETTINGS) await db.execute({ sql: positional(insertSettings), args: [shop, connection, problem] });
        for (const [id, problem] of JOBS) await db.execute({ sql: positional(insertJob), args: [id, problem] });
        await db.executeMultiple(migration);
        settings = (await db.execute(selectSettings)).rows.map((row) => ({ ...row }));
        jobs = (await db.execute(selectJobs)).rows.map((row) => ({ ...row }));
      } finally {
        db.close();
      }
    } else {
      const db = new pg.Client({ connectionString: await postgres().createDatabase(`status_enums_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`) });
      await db.connect();
      try {
        for (const script of before) await db.query(script);
        for (const [shop, connection, problem] of SETTINGS) await db.query(insertSettings, [shop, connection, problem]);
        for (const [id, problem] of JOBS) await db.query(insertJob, [id, problem]);
        await db.query(migration);
        settings = (await db.query(selectSettings)).rows;
        jobs = (await db.query(selectJobs)).rows;
      } finally {
        await db.end();
      }
    }
    expect(settings.map((row) => [row.shop, row.connectionStatus, row.offlineAccessProblem])).toEqual(
      SETTINGS.map(([shop, , , connection, problem]) => [shop, connection, problem]),
    );
    expect(jobs.map((row) => [row.id, row.accessProblem])).toEqual(JOBS.map(([id, , after]) => [id, after]));
  }, 120_000);
});
