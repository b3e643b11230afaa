import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startPostgres, type LocalPostgres } from "../../scripts/local-postgres";

/** The SQL of each migration in a migrations folder, oldest first: what `prisma migrate deploy` runs. */
export function migrationScripts(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8"));
}

/**
 * The SQL of the migrations a provider ran before `migration`, and of `migration` itself: what a
 * test of a data migration replays around rows written with the schema as it was.
 */
export function migrationsAround(provider: "sqlite" | "postgresql", migration: string): { before: string[]; migration: string } {
  const dir = path.resolve(provider === "sqlite" ? "prisma/migrations" : "prisma/postgresql/migrations");
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const read = (name: string) => fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
  return { before: names.filter((name) => name < migration).map(read), migration: read(migration) };
}

/**
 * A scratch folder and a throwaway PostgreSQL server for one test file, made before its tests and
 * removed after them. `postgres()` is the server once the file's tests run.
 */
export function useMigrationWorkspace(label: string): { workDir: string; postgres: () => LocalPostgres } {
  const workDir = path.resolve(".cache/database-tests", `${label}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  let server: LocalPostgres | undefined;
  beforeAll(async () => {
    fs.mkdirSync(workDir, { recursive: true });
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });
  return {
    workDir,
    postgres: () => {
      if (!server) throw new Error("The PostgreSQL server is started before the file's tests run");
      return server;
    },
  };
}
