/**
 * Personal data in stored orders is kept PERSONAL_DATA_RETENTION_DAYS (default 30), then removed;
 * amounts, items, ids and attempts stay. Driven by a controllable `now`, and once through the
 * production build, whose worker runs retention when it starts.
 */
import type { DeliveryStatus } from "@prisma/client";
import prisma from "~/db.server";
import { parseEnv } from "~/env.server";
import { removeExpiredPersonalData } from "~/privacy/retention.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { configureShop } from "../support/outbox";
import { startProductionApp } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";
import { ADA, BO, orderBy, personalValuesOf, textsOf } from "./buyers";

const SHOP = "retention-shop.myshopify.com";
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date("2026-11-20T12:00:00.000Z");

async function storedOrder(orderId: number, createdAt: Date, status: DeliveryStatus) {
  const buyer = orderId % 2 === 0 ? ADA : BO;
  const { deliveryId } = await acceptOrderWebhook({ shop: SHOP, payload: orderBy(buyer, orderId), webhookId: `wh-${orderId}` });
  await prisma.delivery.update({ where: { id: deliveryId! }, data: { createdAt, status } });
  await prisma.deliveryAttempt.create({
    data: {
      deliveryId: deliveryId!,
      shop: SHOP,
      startedAt: createdAt,
      durationMs: 80,
      statusCode: 422,
      outcome: "permanent",
      error: `rejected ${buyer.email}`,
      responseExcerpt: `{"error":"bad customer ${buyer.firstName}"}`,
    },
  });
  return buyer;
}

function row(orderId: number) {
  return prisma.delivery.findUniqueOrThrow({
    where: { shop_orderId_kind: { shop: SHOP, orderId: String(orderId), kind: "order" } },
    include: { deliveryAttempts: true },
  });
}

async function holdsPersonalData(orderId: number): Promise<boolean> {
  const stored = await row(orderId);
  const buyer = orderId % 2 === 0 ? ADA : BO;
  const text = textsOf(stored);
  return personalValuesOf(buyer).some((value) => text.includes(value));
}

beforeEach(async () => {
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await configureShop(SHOP, { publicKey: "pub_retention", secretKey: "sec_retention_key" });
});

describe("retention of personal data", () => {
  it("defaults to 30 days", () => {
    expect(parseEnv({ ...TEST_ENV }).PERSONAL_DATA_RETENTION_DAYS).toBe(30);
    expect(parseEnv({ ...TEST_ENV, PERSONAL_DATA_RETENTION_DAYS: "7" }).PERSONAL_DATA_RETENTION_DAYS).toBe(7);
    expect(() => parseEnv({ ...TEST_ENV, PERSONAL_DATA_RETENTION_DAYS: "0" })).toThrow(/PERSONAL_DATA_RETENTION_DAYS/);
  });

  it("removes it from orders older than the period, keeps it in younger ones, and keeps amounts, items and ids", async () => {
    await storedOrder(8002, new Date(NOW.getTime() - 30 * DAY - 1), "delivered"); // just past the period
    await storedOrder(8003, new Date(NOW.getTime() - 90 * DAY), "failed");
    await storedOrder(8004, new Date(NOW.getTime() - 45 * DAY), "skipped");
    await storedOrder(8005, new Date(NOW.getTime() - 30 * DAY + 1), "delivered"); // just inside it
    await storedOrder(8006, new Date(NOW.getTime() - 2 * DAY), "delivered");
    const before = new Map((await prisma.delivery.findMany({ include: { deliveryAttempts: true } })).map((r) => [r.orderId, r]));
    for (const orderId of [8002, 8003, 8004, 8005, 8006]) expect(await holdsPersonalData(orderId)).toBe(true);

    expect(await removeExpiredPersonalData({ now: NOW, retentionDays: 30 })).toBe(3);

    for (const orderId of [8002, 8003, 8004]) {
      expect(await holdsPersonalData(orderId), `order ${orderId}`).toBe(false);
      const after = await row(orderId);
      const old = before.get(String(orderId))!;
      expect(after.personalDataRemovedAt).toEqual(NOW);
      expect(after).toMatchObject({ orderId: old.orderId, orderName: old.orderName, totalAmount: old.totalAmount, currency: old.currency, status: old.status });
      const { customer: _customer, ...kept } = JSON.parse(old.requestBody!);
      expect(JSON.parse(after.requestBody!)).toEqual(kept);
      // Line items stay but for their properties' values (engravings, messages).
      type Line = { properties: { name: string; value: string }[] };
      expect(JSON.parse(after.orderPayload!).line_items).toEqual(
        JSON.parse(old.orderPayload!).line_items.map((line: Line) => ({ ...line, properties: line.properties.map((p) => ({ ...p, value: "[removed]" })) })),
      );
      expect(after.deliveryAttempts).toHaveLength(1);
    }
    for (const orderId of [8005, 8006]) {
      expect(await row(orderId)).toEqual(before.get(String(orderId)));
    }

    // A second pass finds nothing more; a day later the order that was just inside goes too.
    expect(await removeExpiredPersonalData({ now: NOW, retentionDays: 30 })).toBe(0);
    expect(await removeExpiredPersonalData({ now: new Date(NOW.getTime() + DAY), retentionDays: 30 })).toBe(1);
    expect(await holdsPersonalData(8005)).toBe(false);
    expect(await holdsPersonalData(8006)).toBe(true);
  });

  it("keeps the data of an order still being delivered until it is delivered", async () => {
    await storedOrder(8012, new Date(NOW.getTime() - 40 * DAY), "retrying");
    await storedOrder(8014, new Date(NOW.getTime() - 40 * DAY), "pending");
    expect(await removeExpiredPersonalData({ now: NOW, retentionDays: 30 })).toBe(0);
    expect(await holdsPersonalData(8012)).toBe(true);

    await prisma.delivery.updateMany({ where: { orderId: "8012" }, data: { status: "delivered" } });
    expect(await removeExpiredPersonalData({ now: NOW, retentionDays: 30 })).toBe(1);
    expect(await holdsPersonalData(8012)).toBe(false);
    expect(await holdsPersonalData(8014)).toBe(true);
  });

  it("works through more rows than one batch", async () => {
    for (let orderId = 8100; orderId < 8125; orderId += 1) await storedOrder(orderId, new Date(NOW.getTime() - 31 * DAY), "delivered");
    expect(await removeExpiredPersonalData({ now: NOW, retentionDays: 30, batchSize: 7 })).toBe(25);
    expect(await prisma.delivery.count({ where: { personalDataRemovedAt: null } })).toBe(0);
  });

  it("runs in the production server at start, with PERSONAL_DATA_RETENTION_DAYS", async () => {
    await storedOrder(8202, new Date(Date.now() - 8 * DAY), "delivered");
    await storedOrder(8203, new Date(Date.now() - 6 * DAY), "delivered");
    const app = await startProductionApp({
      DATABASE_URL: process.env.DATABASE_URL!,
      PERSONAL_DATA_RETENTION_DAYS: "7",
      DELIVERY_POLL_MS: "100",
    });
    try {
      const deadline = Date.now() + 15_000;
      while ((await row(8202)).personalDataRemovedAt === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await holdsPersonalData(8202)).toBe(false);
      expect(await holdsPersonalData(8203)).toBe(true);
      // The removal runs in the server's background thread, whose log lines reach the process's
      // output through the main thread: the line can come a moment after the rows changed.
      const removal = /"msg":"personal data removed after the retention period".*"retentionDays":7/;
      while (!removal.test(app.output().join("\n")) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(app.output().join("\n")).toMatch(removal);
    } finally {
      await app.stop();
    }
  }, 60_000);
});
