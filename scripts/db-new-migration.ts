/**
 * Writes the migration for a change to prisma/schema.prisma, for both providers at once, so
 * prisma/migrations (SQLite) and prisma/postgresql/migrations stay in step:
 *
 *   npm run db:migration -- add_backfill_jobs     new folder <timestamp>_add_backfill_jobs in both
 *   npm run db:migration -- --init                rewrite the one initial migration of both
 *                                                 (only while there is a single migration,
 *                                                 i.e. before the first release)
 *
 * First regenerates prisma/postgresql/schema.prisma (npm run db:schemas). Each migration is
 * `prisma migrate diff --from-migrations <dir> --to-schema-datamodel <schema> --script`, run on
 * a shadow database: a temporary SQLite file, and for PostgreSQL the server in $POSTGRES_URL
 * or, without it, a throwaway local server (scripts/local-postgres.ts; needs Debian's
 * postgresql package). Review the SQL before committing it.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { POSTGRES_SCHEMA, SOURCE_SCHEMA, renderPostgresSchema } from "./db-sync-schemas";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PRISMA = path.join(root, "node_modules", ".bin", "prisma");

const providers = [
  { name: "sqlite", schema: SOURCE_SCHEMA, migrations: path.join(root, "prisma", "migrations") },
  { name: "postgresql", schema: POSTGRES_SCHEMA, migrations: path.join(root, "prisma", "postgresql", "migrations") },
] as const;

function migrationFolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

function diffScript(from: string[], schema: string, databaseUrl: string): string {
  const result = spawnSync(PRISMA, ["migrate", "diff", ...from, "--to-schema-datamodel", schema, "--script"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  if (result.status !== 0) {
    throw new Error(`prisma migrate diff failed for ${path.relative(root, schema)}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

function timestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

async function main(argv: string[]) {
  const init = argv.includes("--init");
  const name = argv.find((arg) => !arg.startsWith("--"));
  if (!init && (!name || !/^[a-z0-9_]+$/.test(name))) {
    console.error("Usage: npm run db:migration -- <name in lower_snake_case> | --init");
    process.exit(2);
  }

  fs.writeFileSync(POSTGRES_SCHEMA, renderPostgresSchema(fs.readFileSync(SOURCE_SCHEMA, "utf8")));

  const sqliteUrl = `file:${path.join(os.tmpdir(), `db-migration-${crypto.randomUUID()}.sqlite`)}`;
  let stopPostgres: (() => Promise<void>) | null = null;
  let postgresUrl = process.env.POSTGRES_URL;
  if (!postgresUrl) {
    const { startPostgres } = await import("./local-postgres");
    const server = await startPostgres();
    postgresUrl = server.url;
    stopPostgres = server.stop;
  }

  try {
    if (init) {
      for (const provider of providers) {
        const folders = migrationFolders(provider.migrations);
        if (folders.length !== 1) {
          throw new Error(`--init rewrites a single initial migration; ${path.relative(root, provider.migrations)} has ${folders.length}`);
        }
        const url = provider.name === "sqlite" ? sqliteUrl : postgresUrl;
        const sql = diffScript(["--from-empty"], provider.schema, url);
        fs.writeFileSync(path.join(provider.migrations, folders[0], "migration.sql"), sql);
        console.log(`rewrote ${path.relative(root, path.join(provider.migrations, folders[0], "migration.sql"))}`);
      }
      return;
    }

    const folder = `${timestamp()}_${name}`;
    const scripts = providers.map((provider) => {
      const url = provider.name === "sqlite" ? sqliteUrl : postgresUrl!;
      return diffScript(["--from-migrations", provider.migrations], provider.schema, url);
    });
    const isEmpty = (sql: string) => sql.split("\n").every((line) => line.trim() === "" || line.trim().startsWith("--"));
    if (scripts.every(isEmpty)) {
      console.log("The migrations already match prisma/schema.prisma: nothing to write.");
      return;
    }
    providers.forEach((provider, index) => {
      const dir = path.join(provider.migrations, folder);
      fs.mkdirSync(dir, { recursive: true });
      const sql = isEmpty(scripts[index]) ? "-- No change for this provider.\n" : scripts[index];
      fs.writeFileSync(path.join(dir, "migration.sql"), sql);
      console.log(`wrote ${path.relative(root, path.join(dir, "migration.sql"))}`);
    });
  } finally {
    fs.rmSync(sqliteUrl.slice("file:".length), { force: true });
    await stopPostgres?.();
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
