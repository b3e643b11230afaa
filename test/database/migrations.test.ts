/**
 * `prisma migrate deploy` (what `npm run setup` runs at start) applies each provider's
 * migrations to an empty database through prisma.config.ts, is a no-op the second time, and
 * leaves a database every model of the app's client can use.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createPrismaClient } from "~/database/prisma-clients";
import { startPostgres, type LocalPostgres } from "../../scripts/local-postgres";
import { describeRun, prismaCli } from "./prisma-cli";

const workDir = path.resolve(".cache/database-tests", `migrate-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
let server: LocalPostgres;

beforeAll(async () => {
  fs.mkdirSync(workDir, { recursive: true });
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

// The two providers at once: most of the PostgreSQL case is Prisma's command line waiting out a
// timer after it has finished (10 s per `migrate deploy`), time the SQLite case can use. Within a
// provider the steps stay in order.
describe.concurrent.each(["sqlite", "postgresql"] as const)("migrations on %s", (provider) => {
  let url: string;
  beforeAll(async () => {
    url =
      provider === "sqlite"
        ? `file:${path.join(workDir, "empty.sqlite")}`
        : await server.createDatabase(`migrate_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`);
  });

  it.sequential("apply to an empty database, once", async () => {
    const deploy = ["migrate", "deploy"];
    const first = await prismaCli(deploy, url);
    expect(first.status, describeRun(deploy, first)).toBe(0);
    expect(first.stdout).toContain(provider === "sqlite" ? "prisma/schema.prisma" : "prisma/postgresql/schema.prisma");
    expect(first.stdout).toContain("All migrations have been successfully applied");

    const again = await prismaCli(deploy, url);
    expect(again.status, describeRun(deploy, again)).toBe(0);
    expect(again.stdout).toContain("No pending migrations to apply");

    const status = ["migrate", "status"];
    const result = await prismaCli(status, url);
    expect(result.status, describeRun(status, result)).toBe(0);
    expect(result.stdout).toContain("Database schema is up to date");
  }, 240_000);

  it.sequential("leave tables for every model of the client", async () => {
    const prisma = createPrismaClient(url);
    try {
      for (const model of Object.values(Prisma.ModelName)) {
        const delegate = (prisma as unknown as Record<string, { count(): Promise<number> }>)[
          model.charAt(0).toLowerCase() + model.slice(1)
        ];
        expect(await delegate.count(), model).toBe(0);
      }
    } finally {
      await (prisma as PrismaClient).$disconnect();
    }
  });
});
