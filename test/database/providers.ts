/**
 * Fresh, migrated databases of either provider, for tests that run one body against both.
 * A template is migrated once per harness by running the provider's migration scripts, and
 * every fresh database is a copy of it: a file copy for SQLite (under .cache/database-tests/,
 * apart from the per-file databases of test/setup), CREATE DATABASE ... TEMPLATE on a
 * throwaway PostgreSQL server (scripts/local-postgres.ts).
 * migrations.test.ts checks `prisma migrate deploy` itself on both providers.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient } from "~/database/prisma-clients";
import type { DriverAdapterOptions } from "~/database/driver-adapter";
import { startPostgres, type LocalPostgres } from "../../scripts/local-postgres";
import { migrationScripts } from "../support/migrations";

export const PROVIDERS = ["sqlite", "postgresql"] as const;
export type Provider = (typeof PROVIDERS)[number];

const CACHE_DIR = path.resolve(".cache/database-tests");

export interface ProviderHarness {
  provider: Provider;
  /** A new, empty, migrated database; returns its DATABASE_URL. */
  freshDatabase(): Promise<string>;
  /** A client for a URL, closed by close(). */
  client(url: string, options?: DriverAdapterOptions): PrismaClient;
  close(): Promise<void>;
}

export async function openProvider(provider: Provider): Promise<ProviderHarness> {
  const clients: PrismaClient[] = [];
  const workDir = path.join(CACHE_DIR, `${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  let server: LocalPostgres | null = null;
  let template = "";

  if (provider === "sqlite") {
    fs.mkdirSync(workDir, { recursive: true });
    template = path.join(workDir, "template.sqlite");
    const connection = createClient({ url: `file:${template}` });
    try {
      for (const script of migrationScripts(path.resolve("prisma/migrations"))) await connection.executeMultiple(script);
    } finally {
      connection.close();
    }
  } else {
    server = await startPostgres();
    template = "migrated_template";
    const templateUrl = await server.createDatabase(template);
    const connection = new pg.Client({ connectionString: templateUrl });
    await connection.connect();
    try {
      for (const script of migrationScripts(path.resolve("prisma/postgresql/migrations"))) await connection.query(script);
    } finally {
      await connection.end();
    }
  }

  return {
    provider,
    async freshDatabase() {
      const name = `db_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
      if (provider === "sqlite") {
        const file = path.join(workDir, `${name}.sqlite`);
        fs.copyFileSync(template, file);
        return `file:${file}`;
      }
      const admin = new pg.Client({ connectionString: server!.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      } finally {
        await admin.end();
      }
      return server!.url.replace(/\/postgres$/, `/${name}`);
    },
    client(url, options) {
      const client = createPrismaClient(url, options);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.$disconnect().catch(() => undefined)));
      await server?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}
