import { createRequire } from "node:module";
import path from "node:path";
import { Prisma, PrismaClient } from "@prisma/client";
import type { PrismaClient as PostgresPrismaClient } from ".prisma/client-postgresql";
import { createDriverAdapter, type DriverAdapterOptions } from "./driver-adapter";
import { withSealedColumns } from "./sealed-columns.server";
import { SqliteAdapterFactory } from "./sqlite-adapter";

/*
 * Two generated Prisma clients live side by side, both from the models of prisma/schema.prisma:
 *  - `@prisma/client` (node_modules/.prisma/client), generated for SQLite: the app's types;
 *  - `.prisma/client-postgresql` (node_modules/.prisma/client-postgresql), generated from
 *    prisma/postgresql/schema.prisma: loaded only when DATABASE_URL is a postgres:// URL.
 * Prisma 6 generates one client per provider (the query compiler and the provider are baked
 * in), hence two. `npm ci` generates both (postinstall -> npm run db:generate).
 *
 * Prisma copies its runtime into a client generated to a custom output, so the PostgreSQL
 * client would bring its own copy of classes such as Prisma.PrismaClientKnownRequestError,
 * and `error instanceof Prisma.PrismaClientKnownRequestError` (the app's P2002 handling,
 * Shopify's session storage) would be false for its errors. The copy is byte-for-byte the
 * runtime of @prisma/client (same package, same version), so the PostgreSQL client is loaded
 * against @prisma/client's runtime instead: its runtime module is aliased in Node's module
 * cache before the client is first required. loadPostgresClientClass() checks that it worked.
 */

const requireFromHere = createRequire(import.meta.url);

type PostgresClientModule = typeof import(".prisma/client-postgresql");

let postgresModule: PostgresClientModule | undefined;

function loadPostgresModule(): PostgresClientModule {
  if (postgresModule) return postgresModule;
  let clientDir: string;
  try {
    clientDir = path.dirname(requireFromHere.resolve(".prisma/client-postgresql/package.json"));
  } catch {
    throw new Error(
      "The PostgreSQL Prisma client is not generated (node_modules/.prisma/client-postgresql). " +
        "Run `npm run db:generate` (npm ci runs it) before using a postgres:// DATABASE_URL.",
    );
  }
  const sharedRuntime = requireFromHere.resolve("@prisma/client/runtime/client.js");
  const copiedRuntime = path.join(clientDir, "runtime", "client.js");
  requireFromHere(sharedRuntime);
  if (!requireFromHere.cache[copiedRuntime] && requireFromHere.cache[sharedRuntime]) {
    requireFromHere.cache[copiedRuntime] = requireFromHere.cache[sharedRuntime];
  }
  const loaded = requireFromHere(".prisma/client-postgresql") as PostgresClientModule;
  if (loaded.Prisma.PrismaClientKnownRequestError !== Prisma.PrismaClientKnownRequestError) {
    throw new Error(
      "The PostgreSQL Prisma client did not load against @prisma/client's runtime, so its errors " +
        "would not be instances of Prisma.PrismaClientKnownRequestError. Are @prisma/client and " +
        "the generated clients from the same Prisma version? Run `npm run db:generate`.",
    );
  }
  postgresModule = loaded;
  return loaded;
}

/** The PostgreSQL PrismaClient class (from .prisma/client-postgresql). */
export function loadPostgresClientClass(): typeof PostgresPrismaClient {
  return loadPostgresModule().PrismaClient;
}

/**
 * A PrismaClient for a DATABASE_URL: the SQLite client with the libSQL adapter for file: URLs,
 * the PostgreSQL client with the node-postgres adapter for postgres:// URLs.
 *
 * It is typed as the SQLite client for both. Both clients are generated from the same models,
 * so their model APIs are identical; they differ only in provider-specific extras this app
 * does not use (e.g. `mode: "insensitive"` filters exist only on PostgreSQL). This is the one
 * place that relies on it.
 */
export function createPrismaClient(databaseUrl: string, options: DriverAdapterOptions = {}): PrismaClient {
  const adapter = createDriverAdapter(databaseUrl, options);
  if (adapter instanceof SqliteAdapterFactory) {
    // Starting a transaction may wait behind this process's other queries and then for the
    // busy timeout (sqlite-adapter.ts): longer than Prisma's default 2 s.
    return withSealedColumns(new PrismaClient({ adapter, transactionOptions: { maxWait: adapter.transactionMaxWaitMs } }));
  }
  const PostgresClient = loadPostgresClientClass();
  return withSealedColumns(new PostgresClient({ adapter }) as unknown as PrismaClient);
}
