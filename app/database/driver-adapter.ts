import type { PrismaPg } from "@prisma/adapter-pg";
import { createPostgresAdapterFactory } from "./postgres-adapter";
import { SqliteAdapterFactory } from "./sqlite-adapter";

/** Which database a DATABASE_URL names, decided by its scheme. */
export type DatabaseProvider = "sqlite" | "postgresql";

export function providerFor(databaseUrl: string): DatabaseProvider {
  if (databaseUrl.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return "postgresql";
  throw new Error(
    `DATABASE_URL must start with file: (SQLite) or postgres:// / postgresql:// (PostgreSQL); got "${databaseUrl.split(":")[0]}:..."`,
  );
}

/**
 * The Prisma schema (and migrations folder beside it) for a DATABASE_URL. prisma/schema.prisma
 * is the source of truth; prisma/postgresql/schema.prisma is generated from it (npm run db:schemas).
 */
export function schemaPathFor(databaseUrl: string): string {
  return providerFor(databaseUrl) === "sqlite" ? "prisma/schema.prisma" : "prisma/postgresql/schema.prisma";
}

/** The migrations folder for a DATABASE_URL (Prisma's default: beside the schema). */
export function migrationsPathFor(databaseUrl: string): string {
  return providerFor(databaseUrl) === "sqlite" ? "prisma/migrations" : "prisma/postgresql/migrations";
}

export interface DriverAdapterOptions {
  /** SQLite only: the connection's busy timeout, in ms (see sqlite-adapter.ts). */
  sqliteBusyTimeoutMs?: number;
}

/**
 * The Prisma driver adapter for a DATABASE_URL. Prisma runs without native engines here, so
 * every connection goes through a JavaScript driver: libSQL for SQLite files, node-postgres for
 * PostgreSQL. Both factories also serve Prisma Migrate (prisma.config.ts), shadow database included.
 */
export function createDriverAdapter(
  databaseUrl: string,
  options: DriverAdapterOptions = {},
): SqliteAdapterFactory | PrismaPg {
  if (providerFor(databaseUrl) === "postgresql") return createPostgresAdapterFactory(databaseUrl);
  // intMode "bigint": libsql otherwise reads integers as JavaScript numbers and throws on any
  // value above 2^53 (a BigInt column such as Session.userId could then not be read back at
  // all, while PostgreSQL returns it fine). Prisma maps model fields to their declared types
  // either way; only $queryRaw results show integers as BigInt on SQLite.
  return new SqliteAdapterFactory({ url: databaseUrl, intMode: "bigint" }, options.sqliteBusyTimeoutMs);
}
