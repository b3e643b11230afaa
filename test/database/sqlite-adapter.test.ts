/**
 * The SQLite adapter's fixes for the one process that uses the file (app/database/sqlite-adapter.ts),
 * through the PrismaClient app/db.server.ts builds: the busy timeout and WAL on its connection,
 * one connection however many transactions run (no leaked descriptors), transactions begun
 * IMMEDIATE, and a connection that answered SQLITE_BUSY replaced so that later writes commit.
 * "Another program" is a plain libsql connection, as a shop command beside the app would be.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient } from "~/database/prisma-clients";
import { DEFAULT_SQLITE_BUSY_TIMEOUT_MS, isSqliteBusy } from "~/database/sqlite-adapter";
import { migrationScripts } from "../support/migrations";

const SHOP = "adapter.myshopify.com";
const dir = path.resolve(".cache/database-tests", `sqlite-adapter-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
const file = path.join(dir, "app.sqlite");
const url = `file:${file}`;
const opened: { close(): void }[] = [];
const prismas: PrismaClient[] = [];

function plain(): Client {
  const client = createClient({ url });
  opened.push(client);
  return client;
}

function prismaClient(options: Parameters<typeof createPrismaClient>[1] = {}): PrismaClient {
  const client = createPrismaClient(url, options);
  prismas.push(client);
  return client;
}

/** The descriptors this process holds on a file, from /proc/self/fd. */
function descriptorsOn(target: string): number {
  return fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === target;
    } catch {
      return false; // closed meanwhile (readdir's own descriptor among them)
    }
  }).length;
}

/** The one value of a PRAGMA's answer (integers come back as BigInt from SQLite). */
async function pragma(prisma: PrismaClient, name: string): Promise<string> {
  const rows = await prisma.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${name}`);
  return String(Object.values(rows[0])[0]);
}

async function orderIds(): Promise<string[]> {
  const rows = await plain().execute('SELECT orderId FROM "Delivery" ORDER BY orderId');
  return rows.rows.map((row) => String(row.orderId));
}

beforeAll(async () => {
  fs.mkdirSync(dir, { recursive: true });
  const setup = createClient({ url });
  try {
    for (const script of migrationScripts(path.resolve("prisma/migrations"))) await setup.executeMultiple(script);
  } finally {
    setup.close();
  }
});

afterAll(async () => {
  await Promise.all(prismas.map((prisma) => prisma.$disconnect()));
  for (const client of opened) client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the SQLite adapter in its one process", () => {
  it("opens no connection per transaction: 500 updateMany leave no descriptor behind; busy timeout and WAL set", async () => {
    const prisma = prismaClient();
    await prisma.delivery.create({ data: { shop: SHOP, orderId: "1", status: "pending" } });
    // Counted before and after: libsql frees a closed connection's descriptor only when it is
    // garbage-collected, so the absolute count includes connections closed earlier.
    const before = { all: fs.readdirSync("/proc/self/fd").length, onFile: descriptorsOn(file) };

    // Each updateMany is a transaction; @libsql/client 0.8 alone leaked a connection per one.
    for (let attempt = 1; attempt <= 500; attempt += 1) {
      await prisma.delivery.updateMany({ where: { shop: SHOP, orderId: "1" }, data: { attempts: attempt } });
    }

    expect(fs.readdirSync("/proc/self/fd").length - before.all).toBeLessThan(10);
    expect(descriptorsOn(file)).toBeLessThanOrEqual(before.onFile);
    expect(await pragma(prisma, "busy_timeout")).toBe(String(DEFAULT_SQLITE_BUSY_TIMEOUT_MS));
    expect(await pragma(prisma, "journal_mode")).toBe("wal");
    expect((await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "1" } })).attempts).toBe(500);
  });

  it("begins transactions IMMEDIATE: the write lock is held from BEGIN, before anything is written", async () => {
    const prisma = prismaClient();
    const other = plain();
    await other.execute("PRAGMA busy_timeout = 0");
    const otherWriter = await prisma.$transaction(async (tx) => {
      await tx.delivery.count({ where: { shop: SHOP } });
      // A deferred transaction would hold only a read snapshot here, and let another writer in.
      return other.execute("BEGIN IMMEDIATE").then(
        () => other.execute("ROLLBACK").then(() => null),
        (error: unknown) => error,
      );
    });
    expect(isSqliteBusy(otherWriter)).toBe(true);
  });

  it("replaces a connection that answered SQLITE_BUSY, so the writes after it are committed", async () => {
    const prisma = prismaClient({ sqliteBusyTimeoutMs: 50 });
    await prisma.delivery.count();
    const other = plain();
    const held = await other.transaction("write");
    await held.execute(`UPDATE "Delivery" SET attempts = 1000 WHERE orderId = '1'`);

    await expect(prisma.delivery.create({ data: { shop: SHOP, orderId: "2", status: "pending" } })).rejects.toThrow();
    await held.commit();

    // On the connection that answered busy, libsql would report this write done and never commit it.
    await prisma.delivery.create({ data: { shop: SHOP, orderId: "3", status: "pending" } });
    await prisma.delivery.updateMany({ where: { shop: SHOP, orderId: "3" }, data: { attempts: 7 } });
    expect(await orderIds()).toEqual(["1", "3"]);
    const rows = await plain().execute(`SELECT orderId, attempts FROM "Delivery" ORDER BY orderId`);
    expect(rows.rows.map((row) => [row.orderId, Number(row.attempts)])).toEqual([
      ["1", 1000],
      ["3", 7],
    ]);
  });
});
