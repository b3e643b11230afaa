/**
 * The outbox's group commit, on both databases: webhooks arriving together are written in
 * shared transactions, each caller learns its own outcome (new row, or duplicate), and a row
 * that cannot be written fails only its own caller.
 */
import type { PrismaClient } from "@prisma/client";
import { createOutboxInserter } from "~/forwarding/outbox-inserts.server";
import { openProvider, PROVIDERS, type ProviderHarness } from "./providers";

const SHOP = "group-commit.myshopify.com";

function order(orderId: string) {
  return { shop: SHOP, orderId, status: "pending", requestBody: JSON.stringify({ order_id: orderId }) };
}

describe.each(PROVIDERS)("outbox group commit on %s", (provider) => {
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
    await prisma.delivery.deleteMany();
  });

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
    const broken = { shop: SHOP, orderId: "broken", status: "pending", requestBody: "{}", attempts: "many" as unknown as number };
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
