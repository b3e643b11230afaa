import crypto from "node:crypto";
import { createRequire } from "node:module";
import type { PrismaPg } from "@prisma/adapter-pg";
import type pgModule from "pg";
import type { PoolConfig } from "pg";

// node-postgres and its Prisma adapter are loaded on first use, so a process on SQLite (the
// default, and every CLI command and test on it) does not pay for loading them.
const requireFromHere = createRequire(import.meta.url);
let loaded: { PrismaPg: typeof PrismaPg; pg: typeof pgModule } | undefined;
function postgresModules() {
  loaded ??= {
    PrismaPg: (requireFromHere("@prisma/adapter-pg") as typeof import("@prisma/adapter-pg")).PrismaPg,
    pg: requireFromHere("pg") as typeof pgModule,
  };
  return loaded;
}

/**
 * Query parameters Prisma users put in PostgreSQL URLs that node-postgres does not know.
 * They are translated here and removed from the URL handed to node-postgres.
 */
const PRISMA_URL_PARAMETERS = ["schema", "connection_limit", "pool_timeout", "connect_timeout"] as const;

export interface PostgresConnectionConfig {
  pool: PoolConfig;
}

function positiveInteger(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new Error(`DATABASE_URL: ${name} must be a non-negative integer`);
  }
  return parsed;
}

/**
 * node-postgres pool settings for a postgres:// URL. Understands Prisma's own parameters:
 * `connection_limit` (pool size, default 10 per process) and `pool_timeout` / `connect_timeout`
 * (seconds to wait for a connection). `schema` may only name `public`: the migrations create
 * their tables in the connection's default schema, while the adapter would query the named one.
 */
export function postgresConnectionConfig(databaseUrl: string): PostgresConnectionConfig {
  const url = new URL(databaseUrl);
  const params = url.searchParams;
  const max = positiveInteger(params.get("connection_limit"), "connection_limit");
  const waitSeconds =
    positiveInteger(params.get("pool_timeout"), "pool_timeout") ??
    positiveInteger(params.get("connect_timeout"), "connect_timeout");
  const schema = params.get("schema");
  if (schema !== null && schema !== "public") {
    throw new Error(
      `DATABASE_URL: schema=${schema} is not supported (tables live in the public schema); use a database of its own instead`,
    );
  }
  for (const name of PRISMA_URL_PARAMETERS) params.delete(name);

  const pool: PoolConfig = {
    connectionString: url.toString(),
    Client: catalogFriendlyClientClass(),
    // Idle pooled connections must not keep a finished process (a Prisma CLI command, a
    // script) alive until they time out; a server stays alive through its HTTP listener anyway.
    allowExitOnIdle: true,
  };
  if (max !== undefined && max > 0) pool.max = max;
  if (waitSeconds !== undefined && waitSeconds > 0) pool.connectionTimeoutMillis = waitSeconds * 1000;
  return { pool };
}

/*
 * Prisma Migrate on the WebAssembly schema engine reads PostgreSQL's catalogs through the
 * adapter, and catalog columns are of type `name` (and `"char"`), which @prisma/adapter-pg 6.19
 * rejects ("Column type 'name' could not be deserialized from the database", prisma/prisma
 * issue 27403), so every migrate command failed. node-postgres already returns those values as
 * strings; the client below relabels such result columns as text before the adapter sees them.
 * Application queries never select these types, so for them nothing changes.
 */
const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;
const RELABEL_AS_TEXT: Record<number, number> = {
  18: TEXT_OID, // "char"
  19: TEXT_OID, // name
  1002: TEXT_ARRAY_OID, // "char"[]
  1003: TEXT_ARRAY_OID, // name[]
};

function relabelCatalogTypes<T>(result: T): T {
  for (const part of Array.isArray(result) ? result : [result]) {
    const fields = (part as { fields?: { dataTypeID: number }[] } | null)?.fields;
    if (!fields) continue;
    for (const field of fields) field.dataTypeID = RELABEL_AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
  }
  return result;
}

let catalogFriendlyClient: typeof pgModule.Client | undefined;

/** pg.Client, relabelling catalog columns as text in every result (see above). */
function catalogFriendlyClientClass(): typeof pgModule.Client {
  if (catalogFriendlyClient) return catalogFriendlyClient;
  const { pg } = postgresModules();
  catalogFriendlyClient = class CatalogFriendlyClient extends pg.Client {
    constructor(config?: string | pgModule.ClientConfig) {
      super(config);
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      const wrapped = (...args: unknown[]) => {
        const last = args.at(-1);
        if (typeof last === "function") {
          // Callback style, as pg.Pool#query calls it.
          const callback = last as (error: unknown, result: unknown) => void;
          return query(...args.slice(0, -1), (error: unknown, result: unknown) =>
            callback(error, result === undefined ? result : relabelCatalogTypes(result)),
          );
        }
        const outcome = query(...args);
        return outcome instanceof Promise ? outcome.then(relabelCatalogTypes) : outcome;
      };
      Object.assign(this, { query: wrapped });
    }
  };
  return catalogFriendlyClient;
}

/** The same URL naming another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function pgAdapterFor(databaseUrl: string): PrismaPg {
  return new (postgresModules().PrismaPg)(postgresConnectionConfig(databaseUrl).pool);
}

/**
 * Prisma's PostgreSQL adapter factory, with a shadow database that really is a separate one.
 *
 * The stock factory creates the shadow database and then connects with
 * `{ ...config, database: shadow }`; node-postgres lets a `connectionString` override the
 * `database` field, so with a URL (the only thing this app has) the "shadow" connection would
 * land in the main database, and `migrate dev` / `migrate diff --from-migrations` would apply
 * and reset migrations there. Here the shadow URL names the shadow database itself.
 */
export function createPostgresAdapterFactory(databaseUrl: string): PrismaPg {
  const { PrismaPg } = postgresModules();
  const factory = new PrismaPg(postgresConnectionConfig(databaseUrl).pool);
  factory.connectToShadowDb = async () => {
    const admin = await pgAdapterFor(databaseUrl).connect();
    const name = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
    try {
      await admin.executeScript(`CREATE DATABASE "${name}"`);
    } catch (error) {
      await admin.dispose();
      throw error;
    }
    const shadow = await pgAdapterFor(withDatabase(databaseUrl, name)).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      try {
        await disposeShadow();
      } finally {
        try {
          await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`);
        } finally {
          await admin.dispose();
        }
      }
    };
    return shadow;
  };
  return factory;
}
