/**
 * The outbox operations the app relies on behave the same on SQLite and PostgreSQL: the same
 * test body runs against both providers, through the client app/db.server.ts would build.
 * Among them the intake's group commit: webhooks arriving together are written in shared
 * transactions, each caller learns its own outcome (new row, or duplicate), and a row that
 * cannot be written fails only its own caller.
 */
import { Prisma, type PrismaClient } from "@prisma/client";
import { isUniqueViolation } from "~/database/unique-violation";
import { createOutboxInserter } from "~/outbox/inserts.server";
import { openProvider, PROVIDERS, type ProviderHarness } from "./providers";

const SHOP = "group-commit.myshopify.com";

function order(orderId: string) {
  return { shop: SHOP, orderId, status: "pending" as const, requestBody: JSON.stringify({ order_id: orderId }) };
}

describe.each(PROVIDERS)("outbox operations on %s", (provider) => {
  let harness: ProviderHarness;
  let prisma: PrismaClient;

  beforeAll(async () => {
    harness = await openProvider(provider);
    prisma = harness.client(await harness.freshDatabase());
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(async () => {
    await prisma.deliveryAttempt.deleteMany();
    await prisma.delivery.deleteMany();
  });

  it("reports a duplicate (shop, orderId, kind) as P2002, which isUniqueViolation recognises", async () => {
    const row = { shop: "dup.myshopify.com", orderId: "1001", status: "pending" as const };
    await prisma.delivery.create({ data: row });

    const error = await prisma.delivery.create({ data: { ...row, webhookId: "another-webhook" } }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe("P2002");
    expect(isUniqueViolation(error)).toBe(true);

    // Another kind of message for the same order is a different row.
    await prisma.delivery.create({ data: { ...row, kind: "cancel" } });
    expect(await prisma.delivery.count({ where: { shop: row.shop } })).toBe(2);
  });

  it("does not mistake other errors for duplicates", async () => {
    const error = await prisma.delivery
      .update({ where: { id: "missing" }, data: { status: "failed" } })
      .then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe("P2025");
    expect(isUniqueViolation(error)).toBe(false);
  });

  it("claims a due row with a conditional updateMany: once per lease, again after it expires", async () => {
    const now = new Date("2026-11-26T10:00:00.000Z");
    const row = await prisma.delivery.create({
      data: { shop: "lease.myshopify.com", orderId: "2001", status: "pending", nextAttemptAt: now },
    });
    // The worker's claim (app/outbox/worker.server.ts): due, and no live lease.
    const claim = (owner: string, at: Date) =>
      prisma.delivery.updateMany({
        where: {
          id: row.id,
          status: { in: ["pending", "retrying"] },
          nextAttemptAt: { lte: at },
          OR: [{ leaseUntil: null }, { leaseUntil: { lt: at } }],
        },
        data: { leaseOwner: owner, leaseUntil: new Date(at.getTime() + 60_000) },
      });

    expect((await claim("a", now)).count).toBe(1);
    expect((await claim("b", new Date(now.getTime() + 59_999))).count).toBe(0);
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } })).leaseOwner).toBe("a");

    // The lease has expired: another worker may take the row over.
    expect((await claim("b", new Date(now.getTime() + 60_001))).count).toBe(1);
    expect((await prisma.delivery.findUniqueOrThrow({ where: { id: row.id } })).leaseOwner).toBe("b");

    // Releasing is conditional on still owning the lease.
    const stale = await prisma.delivery.updateMany({ where: { id: row.id, leaseOwner: "a" }, data: { status: "delivered" } });
    expect(stale.count).toBe(0);
    const release = await prisma.delivery.updateMany({
      where: { id: row.id, leaseOwner: "b" },
      data: { status: "delivered", leaseOwner: null, leaseUntil: null },
    });
    expect(release.count).toBe(1);
  });

  it("orders and filters due rows by time to the millisecond", async () => {
    const base = Date.parse("2026-11-26T10:00:00.000Z");
    for (const [orderId, offset] of [["3", 2], ["1", 0], ["2", 1], ["4", 10_000]] as const) {
      await prisma.delivery.create({
        data: { shop: "due.myshopify.com", orderId, status: "pending", nextAttemptAt: new Date(base + offset) },
      });
    }
    const due = await prisma.delivery.findMany({
      where: { status: { in: ["pending", "retrying"] }, nextAttemptAt: { lte: new Date(base + 2) } },
      orderBy: { nextAttemptAt: "asc" },
      select: { orderId: true, nextAttemptAt: true },
    });
    expect(due.map((row) => row.orderId)).toEqual(["1", "2", "3"]);
    expect(due[2].nextAttemptAt.toISOString()).toBe("2026-11-26T10:00:00.002Z");
  });

  it("writes an attempt and the delivery's new state in one transaction", async () => {
    const row = await prisma.delivery.create({
      data: { shop: "tx.myshopify.com", orderId: "4001", status: "pending", leaseOwner: "w" },
    });
    await prisma.$transaction([
      prisma.deliveryAttempt.create({
        data: { deliveryId: row.id, shop: row.shop, startedAt: new Date(), durationMs: 12, statusCode: 200, outcome: "delivered" },
      }),
      prisma.delivery.updateMany({
        where: { id: row.id, leaseOwner: "w" },
        data: { status: "delivered", attempts: 1, leaseOwner: null },
      }),
    ]);
    const stored = await prisma.delivery.findUniqueOrThrow({ where: { id: row.id }, include: { deliveryAttempts: true } });
    expect(stored).toMatchObject({ status: "delivered", attempts: 1, leaseOwner: null });
    expect(stored.deliveryAttempts).toHaveLength(1);

    // A failing batch leaves nothing behind.
    await expect(
      prisma.$transaction([
        prisma.deliveryAttempt.create({
          data: { deliveryId: row.id, shop: row.shop, startedAt: new Date(), durationMs: 1, outcome: "retry" },
        }),
        prisma.delivery.create({ data: { shop: row.shop, orderId: "4001", status: "pending" } }),
      ]),
    ).rejects.toMatchObject({ code: "P2002" });
    expect(await prisma.deliveryAttempt.count({ where: { deliveryId: row.id } })).toBe(1);

    // Deleting a delivery cascades to its attempts.
    await prisma.delivery.delete({ where: { id: row.id } });
    expect(await prisma.deliveryAttempt.count({ where: { deliveryId: row.id } })).toBe(0);
  });

  it("stores Shopify's sessions (BigInt user ids, optional dates) the same way", async () => {
    await prisma.session.create({
      data: {
        id: "offline_bigint.myshopify.com",
        shop: "bigint.myshopify.com",
        state: "s",
        accessToken: "token",
        userId: 9_007_199_254_740_993n,
        expires: null,
      },
    });
    const session = await prisma.session.findUniqueOrThrow({ where: { id: "offline_bigint.myshopify.com" } });
    expect(session.userId).toBe(9_007_199_254_740_993n);
    expect(session.expires).toBeNull();
    await prisma.session.delete({ where: { id: session.id } });
  });

  it("answers SELECT 1, as /healthz asks", async () => {
    // Raw integers come back as BigInt from SQLite (the client reads integers as 64-bit, see
    // driver-adapter.ts) and as number from PostgreSQL's int4: compare the values.
    const rows = await prisma.$queryRaw<{ one: number | bigint }[]>`SELECT 1 AS one`;
    expect(rows.map((row) => Number(row.one))).toEqual([1]);
  });

  describe("group commit of intake inserts", () => {
    it("writes 200 concurrent inserts in a few transactions, each row once, duplicates answered as such", async () => {
      await prisma.delivery.createMany({ data: ["7", "77", "777"].map(order) });
      const groups: number[] = [];
      const inserter = createOutboxInserter(prisma, { maxPerCommit: 64, onGroupCommitted: (size) => groups.push(size) });

      const ids = Array.from({ length: 200 }, (_, index) => String(1_000 + index));
      // Shopify's retries of orders already recorded, mixed into the burst, and one order twice.
      const sent = [...ids.slice(0, 100), "7", "77", ids[5], ...ids.slice(100), "777"];
      const results = await Promise.all(sent.map((orderId) => inserter.insert(order(orderId))));

      const created = results.filter((result) => result !== null);
      expect(created).toHaveLength(200);
      expect(new Set(created.map((row) => row!.id)).size).toBe(200);
      expect(results.filter((result) => result === null)).toHaveLength(4);
      // All are queued in one turn: groups of at most 64. A group holding a duplicate is rolled
      // back and written one by one (not counted here).
      expect(groups.length).toBeGreaterThanOrEqual(1);
      expect(Math.max(...groups)).toBeLessThanOrEqual(64);
      expect(groups.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(64);

      const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { id: true, orderId: true } });
      expect(rows).toHaveLength(203);
      const byOrder = new Map(rows.map((row) => [row.orderId, row.id]));
      sent.forEach((orderId, index) => {
        if (results[index]) expect(results[index]!.id).toBe(byOrder.get(orderId));
      });
    });

    it("gives each caller its own row when a group holds the same order id for two shops, or an order and its reversal", async () => {
      const groups: number[] = [];
      const inserter = createOutboxInserter(prisma, { onGroupCommitted: (size) => groups.push(size) });
      const other = "other-shop.myshopify.com";
      const inputs: (ReturnType<typeof order> & { kind?: string })[] = [order("5"), { ...order("5"), shop: other }, { ...order("5"), kind: "cancel" }, order("6")];
      const results = await Promise.all(inputs.map((data) => inserter.insert(data)));
      expect(groups).toEqual([4]);
      const rows = await prisma.delivery.findMany({ select: { id: true, shop: true, orderId: true, kind: true } });
      expect(results.map((result) => rows.find((row) => row.id === result!.id))).toEqual(
        inputs.map((data) => ({ id: expect.any(String), shop: data.shop, orderId: data.orderId, kind: data.kind ?? "order" })),
      );
    });

    it("fails only the insert that cannot be written; the rest of its group is committed", async () => {
      const inserter = createOutboxInserter(prisma);
      // Refused by Prisma's validation, the same on every database.
      const broken = { shop: SHOP, orderId: "broken", status: "pending" as const, requestBody: "{}", attempts: "many" as unknown as number };
      const settled = await Promise.allSettled([
        inserter.insert(order("1")),
        inserter.insert(order("2")),
        inserter.insert(broken),
        inserter.insert(order("3")),
        inserter.insert(order("4")),
      ]);
      expect(settled.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
      const orderIds = (await prisma.delivery.findMany({ where: { shop: SHOP }, select: { orderId: true } })).map((row) => row.orderId);
      expect(orderIds.sort()).toEqual(["1", "2", "3", "4"]);
    });
  });
});
