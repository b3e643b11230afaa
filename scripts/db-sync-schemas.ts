/**
 * Generates prisma/postgresql/schema.prisma from prisma/schema.prisma, the single source of truth
 * for the data model. Only two things differ between the two files:
 *  - the datasource provider ("sqlite" -> "postgresql");
 *  - the generator output: the PostgreSQL client is generated beside the default one
 *    (node_modules/.prisma/client-postgresql), so both clients exist after `npm ci`.
 *
 *   npm run db:schemas            rewrite the generated schema
 *   npm run db:schemas -- --check exit 1 (and say why) when the generated schema is stale
 *
 * test/database/schema-drift.test.ts fails when the checked-in file differs from this output.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const SOURCE_SCHEMA = path.join(root, "prisma", "schema.prisma");
export const POSTGRES_SCHEMA = path.join(root, "prisma", "postgresql", "schema.prisma");
/** Where the PostgreSQL client is generated, relative to POSTGRES_SCHEMA (repository-path: prisma/postgresql). */
export const POSTGRES_CLIENT_OUTPUT = "../../node_modules/.prisma/client-postgresql";

const BANNER = [
  "// GENERATED FILE - do not edit. Source: prisma/schema.prisma.",
  "// Regenerate with `npm run db:schemas`; test/database/schema-drift.test.ts checks it is current.",
  "// Differences from the source: datasource provider \"postgresql\" and the generator output.",
  "",
  "",
].join("\n");

/** The one block `kind name { ... }` of a schema, with where it starts and ends. */
function findBlock(schema: string, kind: "datasource" | "generator") {
  const pattern = new RegExp(`^${kind}\\s+(\\w+)\\s*\\{[^}]*^\\}`, "gm");
  const matches = [...schema.matchAll(pattern)];
  if (matches.length !== 1) {
    throw new Error(`prisma/schema.prisma must contain exactly one ${kind} block; found ${matches.length}`);
  }
  const match = matches[0];
  return { text: match[0], start: match.index!, end: match.index! + match[0].length };
}

function replaceBlock(schema: string, block: { start: number; end: number }, text: string): string {
  return schema.slice(0, block.start) + text + schema.slice(block.end);
}

/** The PostgreSQL schema for a given SQLite source schema. Pure, so tests can call it. */
export function renderPostgresSchema(source: string): string {
  const normalized = source.replace(/\r\n/g, "\n");

  // Native column types (@db.Text, @db.VarChar(...)) exist per provider; a model that used one
  // could not be shared. Keep the source portable instead of translating them here.
  const nativeType = /@db\.\w+/.exec(normalized);
  if (nativeType) {
    throw new Error(
      `prisma/schema.prisma uses the native type ${nativeType[0]}, which cannot be shared between SQLite and PostgreSQL`,
    );
  }

  let schema = normalized;

  const datasource = findBlock(schema, "datasource");
  const providerLine = /^(\s*provider\s*=\s*)"sqlite"/m;
  if (!providerLine.test(datasource.text)) {
    throw new Error('The datasource of prisma/schema.prisma must declare provider = "sqlite"');
  }
  schema = replaceBlock(schema, datasource, datasource.text.replace(providerLine, '$1"postgresql"'));

  const generator = findBlock(schema, "generator");
  if (/^\s*output\s*=/m.test(generator.text)) {
    throw new Error(
      "The generator of prisma/schema.prisma must not set output: the SQLite client is the default @prisma/client",
    );
  }
  const generatorProvider = /^(\s*)provider\s*=.*$/m.exec(generator.text);
  if (!generatorProvider) throw new Error("The generator of prisma/schema.prisma has no provider");
  const indent = generatorProvider[1];
  const insertAt = generatorProvider.index + generatorProvider[0].length;
  const outputLines =
    `\n${indent}// A second client beside the default one: app/db.server.ts loads it for postgres:// URLs.` +
    `\n${indent}output     = "${POSTGRES_CLIENT_OUTPUT}"`;
  schema = replaceBlock(
    schema,
    generator,
    generator.text.slice(0, insertAt) + outputLines + generator.text.slice(insertAt),
  );

  return BANNER + schema;
}

/** Whether the checked-in PostgreSQL schema is what renderPostgresSchema produces now. */
export function postgresSchemaIsCurrent(): boolean {
  const expected = renderPostgresSchema(fs.readFileSync(SOURCE_SCHEMA, "utf8"));
  return fs.existsSync(POSTGRES_SCHEMA) && fs.readFileSync(POSTGRES_SCHEMA, "utf8") === expected;
}

function main(argv: string[]) {
  if (argv.includes("--check")) {
    if (!postgresSchemaIsCurrent()) {
      console.error(
        `${path.relative(root, POSTGRES_SCHEMA)} is out of date with prisma/schema.prisma: run npm run db:schemas`,
      );
      process.exit(1);
    }
    console.log(`${path.relative(root, POSTGRES_SCHEMA)} is current`);
    return;
  }
  const rendered = renderPostgresSchema(fs.readFileSync(SOURCE_SCHEMA, "utf8"));
  fs.mkdirSync(path.dirname(POSTGRES_SCHEMA), { recursive: true });
  const previous = fs.existsSync(POSTGRES_SCHEMA) ? fs.readFileSync(POSTGRES_SCHEMA, "utf8") : null;
  if (previous === rendered) {
    console.log(`${path.relative(root, POSTGRES_SCHEMA)} is already current`);
    return;
  }
  fs.writeFileSync(POSTGRES_SCHEMA, rendered);
  console.log(`wrote ${path.relative(root, POSTGRES_SCHEMA)}`);
  console.log(
    "If the models changed, add a migration for each provider (prisma/migrations and prisma/postgresql/migrations): see docs/deployment.md",
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
