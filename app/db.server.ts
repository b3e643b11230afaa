import type { PrismaClient } from "@prisma/client";
import { providerFor } from "./database/driver-adapter";
import { createPrismaClient } from "./database/prisma-clients";
import { SqliteAppendStatement, sqliteFileOf } from "./database/sqlite-append.server";
import { databaseEnv } from "./env.server";

declare global {
  // Reused across dev-server reloads so a rebuild does not open a new connection pool.
  var __prisma: PrismaClient | undefined;
}

/**
 * The one Prisma client of this process. DATABASE_URL's scheme picks the database: file: for a
 * SQLite file (one instance), postgres:// or postgresql:// for PostgreSQL (several instances).
 * Typed as the SQLite client either way; see app/database/prisma-clients.ts for why that holds.
 */
const prisma: PrismaClient = globalThis.__prisma ?? createPrismaClient(databaseEnv().DATABASE_URL);
if (databaseEnv().NODE_ENV !== "production") globalThis.__prisma = prisma;

/** Which database this process talks to. */
export const databaseProvider = providerFor(databaseEnv().DATABASE_URL);

export default prisma;

/**
 * SQLite only: an INSERT run below Prisma on a connection of its own (app/database/sqlite-append.server.ts),
 * opened on first use; null on PostgreSQL, where the client's raw queries serve.
 */
export function sqliteAppendStatement(sql: string): SqliteAppendStatement | null {
  return databaseProvider === "sqlite" ? new SqliteAppendStatement(sqliteFileOf(databaseEnv().DATABASE_URL), sql) : null;
}
