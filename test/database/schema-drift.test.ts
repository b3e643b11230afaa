/**
 * prisma/schema.prisma is the single source of truth. This fails when
 *  - prisma/postgresql/schema.prisma is not what `npm run db:schemas` would generate now, or
 *  - either provider's migrations do not produce exactly the schema's tables
 *    (`prisma migrate diff --from-migrations ... --to-schema-datamodel ... --exit-code`,
 *    on a shadow database the adapters of app/database/ provide), or
 *  - the two migration folders are not kept in step.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { POSTGRES_SCHEMA, SOURCE_SCHEMA, renderPostgresSchema } from "../../scripts/db-sync-schemas";
import { startPostgres, type LocalPostgres } from "../../scripts/local-postgres";
import { describeRun, prismaCli } from "./prisma-cli";

const SQLITE_MIGRATIONS = path.resolve("prisma/migrations");
const POSTGRES_MIGRATIONS = path.resolve("prisma/postgresql/migrations");
const workDir = path.resolve(".cache/database-tests", `drift-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);

const migrationNames = (dir: string) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

let server: LocalPostgres;
beforeAll(async () => {
  fs.mkdirSync(workDir, { recursive: true });
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("the generated PostgreSQL schema", () => {
  it("is what npm run db:schemas generates from prisma/schema.prisma now", () => {
    const expected = renderPostgresSchema(fs.readFileSync(SOURCE_SCHEMA, "utf8"));
    const actual = fs.readFileSync(POSTGRES_SCHEMA, "utf8");
    // On failure: run `npm run db:schemas`, then add a migration for each provider.
    expect(actual, "prisma/postgresql/schema.prisma is stale: run npm run db:schemas").toBe(expected);
  });

  it("differs from the source only in the provider and the client's output", () => {
    const rendered = renderPostgresSchema('generator client {\n  provider = "prisma-client-js"\n}\n\ndatasource db {\n  provider = "sqlite"\n  url      = env("DATABASE_URL")\n}\n');
    expect(rendered).toContain('provider = "postgresql"');
    // The client's output, relative to the PostgreSQL schema (repository-path: prisma/postgresql).
    expect(rendered).toContain('output     = "../../node_modules/.prisma/client-postgresql"');
    expect(() => renderPostgresSchema('datasource db {\n  provider = "sqlite"\n}\nmodel A {\n  id String @id @db.Text\n}\n')).toThrow(/native type/);
  });
});

describe("migrations kept in step", () => {
  it("has the same migrations, in the same order, for both providers", () => {
    expect(migrationNames(POSTGRES_MIGRATIONS)).toEqual(migrationNames(SQLITE_MIGRATIONS));
    expect(fs.readFileSync(path.join(SQLITE_MIGRATIONS, "migration_lock.toml"), "utf8")).toContain('provider = "sqlite"');
    expect(fs.readFileSync(path.join(POSTGRES_MIGRATIONS, "migration_lock.toml"), "utf8")).toContain('provider = "postgresql"');
  });

  const cases = [
    { provider: "sqlite", migrations: SQLITE_MIGRATIONS, schema: SOURCE_SCHEMA },
    { provider: "postgresql", migrations: POSTGRES_MIGRATIONS, schema: POSTGRES_SCHEMA },
  ] as const;

  const urlFor = (provider: "sqlite" | "postgresql") =>
    provider === "sqlite" ? `file:${path.join(workDir, `${crypto.randomUUID()}.sqlite`)}` : server.url;

  it.each(cases)("$provider: the migrations produce exactly the schema", async ({ provider, migrations, schema }) => {
    const args = ["migrate", "diff", "--from-migrations", migrations, "--to-schema-datamodel", schema, "--exit-code"];
    const result = await prismaCli(args, urlFor(provider));
    // 0: no difference; 2: the migrations and the schema differ (the output says how); 1: error.
    expect(result.status, describeRun(args, result)).toBe(0);
    if (provider === "postgresql") {
      // The shadow database was a database of its own, and it is gone.
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_shadow_%'");
        expect(rows).toEqual([]);
        // ...and the migrations were applied there, not to the database DATABASE_URL names.
        const tables = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
        expect(tables.rows).toEqual([]);
      } finally {
        await client.end();
      }
    }
  }, 180_000);

  it.each(cases)("$provider: a model missing from the migrations is reported as drift", async ({ provider, migrations }) => {
    const source = fs.readFileSync(SOURCE_SCHEMA, "utf8") + "\nmodel DriftProbe {\n  id String @id\n}\n";
    const schema = path.join(workDir, `${provider}-drifted.prisma`);
    fs.writeFileSync(schema, provider === "sqlite" ? source : renderPostgresSchema(source));
    const args = ["migrate", "diff", "--from-migrations", migrations, "--to-schema-datamodel", schema, "--exit-code"];
    const result = await prismaCli(args, urlFor(provider));
    expect(result.status, describeRun(args, result)).toBe(2);
    expect(result.stdout).toContain("DriftProbe");
  }, 180_000);
});
