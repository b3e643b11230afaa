/**
 * The fast path's writer thread (app/database/append-thread.ts) in a real worker thread on the
 * test file's migrated SQLite database, taking write turns with this thread's Prisma client as
 * `npm start`'s threads do: groups answered row by row, a failed group answered with its reason
 * and nothing of it kept, and groups from this thread written while its Prisma client writes too.
 */
import { Worker } from "node:worker_threads";
import { AppendThreadClient } from "~/database/append-thread";
import { DEFAULT_SQLITE_BUSY_TIMEOUT_MS } from "~/database/sqlite-adapter";
import { sqliteFileOf } from "~/database/sqlite-append.server";
import { BURST_ROWS, appendsInBurst, createWriteTurns, shareWriteTurns } from "~/database/write-turns";
import prisma from "~/db.server";

const SHOP = "append-thread.myshopify.com";
const INSERT = `INSERT INTO "ReceivedWebhook" ("webhookId", "shop", "topic", "eventId", "apiVersion", "payload") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ("webhookId") DO NOTHING`;
const row = (webhookId: string, shop: string | null = SHOP) => [webhookId, shop, "orders/create", null, "2025-01", `body of ${webhookId}`];

let worker: Worker;
let client: AppendThreadClient;

beforeAll(async () => {
  const writeTurns = createWriteTurns();
  shareWriteTurns(writeTurns);
  worker = new Worker(new URL("../support/append-thread-worker.mjs", import.meta.url), {
    execArgv: ["--import", "tsx"],
    workerData: { writeTurns, file: sqliteFileOf(process.env.DATABASE_URL!), busyTimeoutMs: DEFAULT_SQLITE_BUSY_TIMEOUT_MS },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  client = new AppendThreadClient(worker);
});
afterAll(() => worker.terminate());

async function stored(prefix: string) {
  const rows = await prisma.receivedWebhook.findMany({ where: { webhookId: { startsWith: prefix } }, orderBy: { sequence: "asc" }, select: { webhookId: true } });
  return rows.map((r) => r.webhookId);
}

describe("the writer thread", () => {
  it("answers each group row by row: written, or already there", async () => {
    expect(await client.appendAll(INSERT, [row("thread-a"), row("thread-b")])).toEqual([true, true]);
    expect(await client.appendAll(INSERT, [row("thread-b"), row("thread-c")])).toEqual([false, true]);
    expect(await stored("thread-")).toEqual(["thread-a", "thread-b", "thread-c"]);
  });

  it("tells the other threads of a burst: a transaction of BURST_ROWS rows or more", async () => {
    // Past any burst an earlier test's transactions noted.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await client.appendAll(INSERT, [row("burst-a"), row("burst-b")])).toEqual([true, true]);
    expect(appendsInBurst()).toBe(false);
    const many = Array.from({ length: BURST_ROWS }, (_, i) => row(`burst-many-${i}`));
    const sentAt = Date.now();
    expect(await client.appendAll(INSERT, many)).toEqual(Array(BURST_ROWS).fill(true));
    // Asked as of the moment it was sent: the burst lasts from the commit on, however late this runs.
    expect(appendsInBurst(sentAt)).toBe(true);
  });

  it("answers a failed group with SQLite's reason and keeps none of it; the next group is written", async () => {
    await expect(client.appendAll(INSERT, [row("failing-a"), row("failing-b", null)])).rejects.toThrow(/NOT NULL/i);
    expect(await stored("failing-")).toEqual([]);
    expect(await client.appendAll(INSERT, [row("failing-c")])).toEqual([true]);
    expect(await stored("failing-")).toEqual(["failing-c"]);
  });

  it("writes groups sent together, one after another, while this thread's Prisma client writes in its turns", async () => {
    const groups = Array.from({ length: 20 }, (_, g) => Array.from({ length: 5 }, (_, r) => row(`many-${String(g * 5 + r).padStart(3, "0")}`)));
    const prismaWrites = Array.from({ length: 10 }, (_, i) =>
      prisma.$transaction(async (tx) => {
        await tx.receivedWebhook.create({ data: { webhookId: `many-prisma-${i}`, shop: SHOP, topic: "orders/create", apiVersion: "2025-01", payload: "p" } });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }),
    );
    const answers = await Promise.all(groups.map((group) => client.appendAll(INSERT, group)));
    await Promise.all(prismaWrites);
    expect(answers.flat()).toEqual(Array(100).fill(true));
    expect(await prisma.receivedWebhook.count({ where: { webhookId: { startsWith: "many-" } } })).toBe(110);
  });
});
