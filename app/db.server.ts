import type { PrismaClient } from "@prisma/client";
import { providerFor } from "./database/driver-adapter";
import { createPrismaClient } from "./database/prisma-clients";
import { AppendThreadClient, type AppendThreadOptions, type AppendThreadPort, type AppendValue } from "./database/append-thread";
import { SqliteAppendStatement, sqliteFileOf } from "./database/sqlite-append.server";
import { DEFAULT_SQLITE_BUSY_TIMEOUT_MS } from "./database/sqlite-adapter";
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

/** An INSERT of many rows at once; for each row, whether it was written (false: its key was already there). */
export interface AppendStatement {
  appendAll(rows: AppendValue[][]): Promise<boolean[]>;
  /**
   * True when the statement runs in the writer thread, which writes the groups sent while it
   * commits together: the caller sends each group at once. Otherwise the caller waits for one
   * group's answer before sending the next, so that what arrives meanwhile forms the next group.
   */
  readonly gathersGroups: boolean;
}

let appendThread: AppendThreadClient | null = null;

/** What `npm start`'s writer thread needs to open its connection; null on PostgreSQL, which needs no such thread. */
export function appendThreadOptions(): AppendThreadOptions | null {
  if (databaseProvider !== "sqlite") return null;
  return { file: sqliteFileOf(databaseEnv().DATABASE_URL), busyTimeoutMs: DEFAULT_SQLITE_BUSY_TIMEOUT_MS };
}

/** `npm start` (server/app-server.mjs): the appends below run in its writer thread (app/database/append-thread.ts). */
export function appendThroughThread(port: AppendThreadPort) {
  appendThread = new AppendThreadClient(port);
}

/**
 * SQLite only: an INSERT run below Prisma on a connection of its own
 * (app/database/sqlite-append.server.ts), in the writer thread when the server started one, or
 * else on this thread, opened on first use; null on PostgreSQL, where the client's raw queries serve.
 */
export function sqliteAppendStatement(sql: string): AppendStatement | null {
  if (databaseProvider !== "sqlite") return null;
  const thread = appendThread;
  if (thread) return { appendAll: (rows) => thread.appendAll(sql, rows), gathersGroups: true };
  const statement = new SqliteAppendStatement(sqliteFileOf(databaseEnv().DATABASE_URL), sql, DEFAULT_SQLITE_BUSY_TIMEOUT_MS);
  return { appendAll: (rows) => statement.appendAll(rows), gathersGroups: false };
}
