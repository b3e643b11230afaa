/**
 * The INSERT below Prisma that the webhooks' fast path appends with
 * (app/database/sqlite-append.server.ts), on the test file's migrated SQLite database: rows
 * written once, a failed group leaving nothing, and the write turn taken alone, so that an open
 * Prisma transaction of the same thread is waited for instead of SQLite's lock.
 */
import { DEFAULT_SQLITE_BUSY_TIMEOUT_MS } from "~/database/sqlite-adapter";
import { SqliteAppendStatement, sqliteFileOf } from "~/database/sqlite-append.server";
import prisma from "~/db.server";

const SHOP = "append.myshopify.com";
const INSERT = `INSERT INTO "ReceivedWebhook" ("webhookId", "shop", "topic", "eventId", "apiVersion", "payload") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ("webhookId") DO NOTHING`;
const row = (webhookId: string, shop: string | null = SHOP) => [webhookId, shop, "orders/create", null, "2025-01", `body of ${webhookId}`];

let statement: SqliteAppendStatement;

beforeAll(() => {
  statement = new SqliteAppendStatement(sqliteFileOf(process.env.DATABASE_URL!), INSERT, DEFAULT_SQLITE_BUSY_TIMEOUT_MS);
});
afterAll(() => statement.close());

async function stored(prefix: string) {
  const rows = await prisma.receivedWebhook.findMany({ where: { webhookId: { startsWith: prefix } }, orderBy: { sequence: "asc" }, select: { webhookId: true, payload: true } });
  return rows.map((r) => `${r.webhookId}: ${r.payload}`);
}

describe("sqliteFileOf", () => {
  it.each([
    ["file:./prisma/dev.sqlite", "./prisma/dev.sqlite"],
    ["file:/srv/app/data.sqlite", "/srv/app/data.sqlite"],
    ["file:///srv/app/data.sqlite", "/srv/app/data.sqlite"],
    ["file://localhost/srv/app/data.sqlite", "/srv/app/data.sqlite"],
    ["file:/srv/my%20app/data.sqlite", "/srv/my app/data.sqlite"],
  ])("%s names %s", (url, file) => {
    expect(sqliteFileOf(url)).toBe(file);
  });

  it.each([
    ["postgres://db/app", /Not a SQLite/],
    ["file://db.example/app.sqlite", /names no host/],
    ["file:./dev.sqlite?mode=ro", /query or fragment/],
    ["file:", /names no file/],
  ])("refuses %s", (url, message) => {
    expect(() => sqliteFileOf(url)).toThrow(message);
  });
});

describe("appending below Prisma", () => {
  it("writes each row once: a webhook id already there is answered false and kept as it was", async () => {
    expect(await statement.appendAll([row("once-a"), row("once-b")])).toEqual([true, true]);
    expect(await statement.appendAll([row("once-b"), row("once-c"), row("once-c")])).toEqual([false, true, false]);
    expect(await stored("once-")).toEqual(["once-a: body of once-a", "once-b: body of once-b", "once-c: body of once-c"]);
  });

  it("a group that fails writes nothing, and the next group is written on a new connection", async () => {
    // shop is NOT NULL: the second row fails after the first was inserted in the same transaction.
    await expect(statement.appendAll([row("failed-a"), row("failed-b", null)])).rejects.toThrow(/NOT NULL/i);
    expect(await stored("failed-")).toEqual([]);
    expect(await statement.appendAll([row("failed-c")])).toEqual([true]);
    expect(await stored("failed-")).toEqual(["failed-c: body of failed-c"]);
  });

  it("waits for an open Prisma transaction of the same thread instead of SQLite's lock, then writes", async () => {
    const events: string[] = [];
    let began!: () => void;
    const begun = new Promise<void>((resolve) => (began = resolve));
    const transaction = prisma.$transaction(async (tx) => {
      await tx.receivedWebhook.create({ data: { webhookId: "turn-tx", shop: SHOP, topic: "orders/create", apiVersion: "2025-01", payload: "in a transaction" } });
      began();
      // The transaction holds SQLite's write lock across this wait, as an admin form's would.
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push("transaction committing");
    });
    await begun;
    const append = statement.appendAll([row("turn-append")]).then((written) => {
      events.push("appended");
      return written;
    });
    await transaction;
    // Blocking on SQLite's lock instead would have held this thread, the transaction with it, and failed as busy.
    expect(await append).toEqual([true]);
    expect(events).toEqual(["transaction committing", "appended"]);
    expect(await stored("turn-")).toEqual(["turn-tx: in a transaction", "turn-append: body of turn-append"]);
  });
});
