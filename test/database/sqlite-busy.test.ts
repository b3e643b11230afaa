/**
 * SQLite shared with another process (app/database/sqlite-adapter.ts): every connection gets
 * the busy timeout, the file is in WAL mode, a locked database is waited for instead of failing,
 * and writes made after a busy answer are really committed. The "other process" is a plain
 * libsql connection holding the write lock, outside this process's coordination.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { BusyTolerantClient, isSqliteBusy, sqliteFileOf } from "~/database/sqlite-adapter";
import { createPrismaClient } from "~/database/prisma-clients";
import { migrationScripts } from "./providers";

const dir = path.resolve(".cache/database-tests", `busy-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
const opened: { close(): void }[] = [];

function newFile(): string {
  fs.mkdirSync(dir, { recursive: true });
  return `file:${path.join(dir, `${crypto.randomUUID()}.sqlite`)}`;
}
function busyTolerant(url: string, busyBudgetMs = 5_000) {
  const client = new BusyTolerantClient(() => createClient({ url }), { lockWaitMs: 10, busyBudgetMs });
  opened.push(client);
  return client;
}
function plain(url: string): Client {
  const client = createClient({ url });
  opened.push(client);
  return client;
}
/** Another process's write transaction, held for `ms`. */
async function holdWriteLock(url: string, ms: number) {
  const other = plain(url);
  const transaction = await other.transaction("write");
  await transaction.execute("INSERT INTO t (v) VALUES ('other')");
  return new Promise<void>((resolve) => setTimeout(() => void transaction.commit().then(resolve), ms));
}
async function values(url: string): Promise<string[]> {
  const reader = plain(url);
  return (await reader.execute("SELECT v FROM t ORDER BY id")).rows.map((row) => String(row.v));
}

afterAll(() => {
  for (const client of opened) client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("SQLite shared with another process", () => {
  let url: string;
  beforeEach(async () => {
    url = newFile();
    await plain(url).execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  });

  it("switches the file to WAL and sets the busy timeout on every connection, also after transactions", async () => {
    const client = busyTolerant(url);
    expect((await client.execute("PRAGMA journal_mode")).rows[0][0]).toBe("wal");
    expect((await client.execute("PRAGMA busy_timeout")).rows[0][0]).toBe(10);
    for (let round = 0; round < 3; round += 1) {
      const transaction = await client.transaction("deferred");
      await transaction.execute("INSERT INTO t (v) VALUES ('tx')");
      await transaction.commit();
      // @libsql/client opened a new connection after the transaction: it is configured too.
      expect((await client.execute("PRAGMA busy_timeout")).rows[0][0]).toBe(10);
    }
    expect(await values(url)).toEqual(["tx", "tx", "tx"]);
  });

  it("waits for another process's write lock instead of failing, and commits what it writes afterwards", async () => {
    const client = busyTolerant(url);
    await client.execute("SELECT 1");
    const released = holdWriteLock(url, 300);
    const started = Date.now();
    await client.execute("INSERT INTO t (v) VALUES ('first')");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await released;
    // A connection that answered SQLITE_BUSY is never reused: later writes are committed.
    await client.execute("INSERT INTO t (v) VALUES ('second')");
    const transaction = await client.transaction("deferred");
    await transaction.execute("INSERT INTO t (v) VALUES ('third')");
    await transaction.commit();
    expect(await values(url)).toEqual(["other", "first", "second", "third"]);
  });

  it("waits to begin a transaction while another process writes", async () => {
    const client = busyTolerant(url);
    await client.execute("SELECT 1");
    const released = holdWriteLock(url, 300);
    const transaction = await client.transaction("deferred");
    await transaction.execute("INSERT INTO t (v) VALUES ('mine')");
    await transaction.commit();
    await released;
    await client.execute("INSERT INTO t (v) VALUES ('after')");
    expect(await values(url)).toEqual(["other", "mine", "after"]);
  });

  it("gives up with SQLITE_BUSY once the busy budget is spent, and recovers afterwards", async () => {
    const client = busyTolerant(url, 300);
    await client.execute("SELECT 1");
    const released = holdWriteLock(url, 1_500);
    const error = await client.execute("INSERT INTO t (v) VALUES ('lost')").then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isSqliteBusy(error)).toBe(true);
    await released;
    await client.execute("INSERT INTO t (v) VALUES ('later')");
    expect(await values(url)).toEqual(["other", "later"]);
  });

  it("lets a PrismaClient write while another process holds the lock for a moment", async () => {
    const databaseUrl = newFile();
    const setup = plain(databaseUrl);
    for (const script of migrationScripts(path.resolve("prisma/migrations"))) await setup.executeMultiple(script);
    const prisma = createPrismaClient(databaseUrl);
    try {
      await prisma.delivery.create({ data: { shop: "busy.myshopify.com", orderId: "1", status: "pending" } });
      const other = plain(databaseUrl);
      const transaction = await other.transaction("write");
      await transaction.execute("UPDATE \"Delivery\" SET reason = 'held' WHERE orderId = '1'");
      setTimeout(() => void transaction.commit(), 300);

      await prisma.delivery.create({ data: { shop: "busy.myshopify.com", orderId: "2", status: "pending" } });
      const claimed = await prisma.delivery.updateMany({ where: { orderId: "2" }, data: { leaseOwner: "me" } });
      expect(claimed.count).toBe(1);
      const reader = plain(databaseUrl);
      const rows = (await reader.execute('SELECT orderId, reason, leaseOwner FROM "Delivery" ORDER BY orderId')).rows;
      expect(rows.map((row) => [row.orderId, row.reason, row.leaseOwner])).toEqual([
        ["1", "held", null],
        ["2", null, "me"],
      ]);
    } finally {
      await prisma.$disconnect();
    }
  });
});

describe("sqliteFileOf", () => {
  it("names the file of a file: URL, and nothing for in-memory databases", () => {
    expect(sqliteFileOf("file:/data/app.sqlite")).toBe("/data/app.sqlite");
    expect(sqliteFileOf("file:///data/app.sqlite")).toBe("/data/app.sqlite");
    expect(sqliteFileOf("file:./prisma/dev.sqlite")).toBe(path.resolve("prisma/dev.sqlite"));
    expect(sqliteFileOf("file:/data/app.sqlite?mode=rwc")).toBe("/data/app.sqlite");
    expect(sqliteFileOf("file::memory:")).toBeNull();
    expect(sqliteFileOf(":memory:")).toBeNull();
  });
});
