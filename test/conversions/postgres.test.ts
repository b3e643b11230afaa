/**
 * Conversions on PostgreSQL: the idempotent, time-ordered upsert and the delivery log's Affiliate
 * filter (an EXISTS join written in SQL, with the status enum compared to literals) on a
 * throwaway database, through the app's one client (globalThis.__prisma).
 */
import type { PrismaClient } from "@prisma/client";
import { openProvider, type ProviderHarness } from "../database/providers";

let harness: ProviderHarness;
let prisma: PrismaClient;
let store: typeof import("~/conversions/store.server");
let outcomes: typeof import("~/conversions/order-outcomes.server");

const SHOP = "pg-conversions.myshopify.com";
const OTHER = "pg-other.myshopify.com";
const T0 = new Date("2026-12-01T10:00:00Z");

beforeAll(async () => {
  harness = await openProvider("postgresql");
  prisma = harness.client(await harness.freshDatabase());
  globalThis.__prisma = prisma;
  store = await import("~/conversions/store.server");
  outcomes = await import("~/conversions/order-outcomes.server");
}, 180_000);

afterAll(async () => {
  globalThis.__prisma = undefined;
  await harness?.close();
});

function report(conversionId: string, orderId: string, status: "pending" | "approved" | "denied", minutes = 0) {
  const at = new Date(T0.getTime() + minutes * 60_000);
  return {
    conversionId,
    orderId,
    status,
    deniedReason: status === "denied" ? "Self-referral" : null,
    affiliateId: "1",
    affiliateCode: "ada1",
    affiliateName: "Ada Sandbox",
    commission: "1.00",
    total: "10.00",
    currency: "USD",
    test: false,
    refersionCreatedAt: T0,
    refersionUpdatedAt: at,
  };
}

describe("conversions on PostgreSQL", { timeout: 60_000 }, () => {
  it("stores each conversion once, the later report winning, and filters the shop's orders by outcome", async () => {
    for (const [shop, orderId, status] of [
      [SHOP, "1", "delivered"],
      [SHOP, "2", "delivered"],
      [SHOP, "3", "delivered"],
      [SHOP, "4", "delivered"],
      [SHOP, "5", "failed"],
      [OTHER, "4", "delivered"],
    ] as const) {
      await prisma.delivery.create({ data: { shop, orderId, status, deliveredAt: status === "delivered" ? T0 : null } });
    }
    expect(await store.recordConversion(SHOP, report("a", "1", "pending"))).toBe("recorded");
    expect(await store.recordConversion(SHOP, report("a", "1", "approved", 5))).toBe("updated");
    expect(await store.recordConversion(SHOP, report("a", "1", "pending", 0))).toBe("unchanged");
    expect(await store.recordConversion(SHOP, report("b", "2", "pending"))).toBe("recorded");
    expect(await store.recordConversion(SHOP, report("c", "3", "denied", 2))).toBe("recorded");
    expect(await store.recordConversion(OTHER, report("d", "4", "approved"))).toBe("recorded");
    expect(await prisma.conversion.count({ where: { shop: SHOP } })).toBe(3);
    expect((await prisma.conversion.findFirstOrThrow({ where: { shop: SHOP, conversionId: "a" } })).status).toBe("approved");

    // Connected an hour before the orders were delivered, a 24-hour grace period.
    await prisma.conversionReceiver.create({
      data: { shop: SHOP, token: "pg-receiver-token", secretCiphertext: "sealed", connectedAt: new Date(T0.getTime() - 3_600_000), graceHours: 24 },
    });
    const orderIdsOf = async (filter: "credited" | "not_credited" | "denied", now = new Date(T0.getTime() + 25 * 3_600_000)) => {
      const page = await outcomes.orderIdsMatching(SHOP, filter, { skip: 0, take: 25 }, now);
      const rows = await prisma.delivery.findMany({ where: { id: { in: page.ids } } });
      return { total: page.total, orders: rows.map((row) => row.orderId).sort() };
    };
    expect(await orderIdsOf("credited")).toEqual({ total: 2, orders: ["1", "2"] });
    expect(await orderIdsOf("denied")).toEqual({ total: 1, orders: ["3"] });
    expect(await orderIdsOf("not_credited")).toEqual({ total: 1, orders: ["4"] });
    // Within the grace period, order 4 still waits for Refersion: not listed.
    expect(await orderIdsOf("not_credited", new Date(T0.getTime() + 3_600_000))).toEqual({ total: 0, orders: [] });
  });
});
