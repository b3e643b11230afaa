/**
 * The receipts of processed webhooks are kept for WEBHOOK_RECEIPT_RETENTION_DAYS, then removed by
 * the hourly maintenance's sweep; a receipt recorded twice (two copies processed at once) is one.
 */
import prisma from "~/db.server";
import { alreadyProcessed, recordProcessed, removeExpiredWebhookReceipts, WEBHOOK_RECEIPT_RETENTION_DAYS } from "~/webhooks/receipts.server";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("webhook receipts", () => {
  it("know a webhook by its webhook id, or by its event id for the same topic", async () => {
    await recordProcessed({ topic: "orders/create", webhookId: "w-1", eventId: "e-1" });
    await Promise.all([1, 2, 3].map(() => recordProcessed({ topic: "orders/create", webhookId: "w-1", eventId: "e-1" })));
    expect(await prisma.webhookReceipt.count()).toBe(2);
    expect(await alreadyProcessed({ topic: "orders/create", webhookId: "w-1", eventId: null })).toBe(true);
    expect(await alreadyProcessed({ topic: "ORDERS_CREATE", webhookId: "w-2", eventId: "e-1" })).toBe(true);
    // The same event sent as another topic is another delivery.
    expect(await alreadyProcessed({ topic: "orders/paid", webhookId: "w-3", eventId: "e-1" })).toBe(false);
  });

  it("are removed once older than the retention period, and only those", async () => {
    const now = new Date("2026-12-01T12:00:00Z");
    const age = (days: number) => new Date(now.getTime() - days * DAY_MS);
    await prisma.webhookReceipt.createMany({
      data: [
        { key: "webhook:old", topic: "orders/create", receivedAt: age(WEBHOOK_RECEIPT_RETENTION_DAYS + 1) },
        { key: "webhook:recent", topic: "orders/create", receivedAt: age(WEBHOOK_RECEIPT_RETENTION_DAYS - 1) },
      ],
    });
    expect(await removeExpiredWebhookReceipts(now)).toBe(1);
    expect((await prisma.webhookReceipt.findMany({ where: { key: { in: ["webhook:old", "webhook:recent"] } } })).map((row) => row.key)).toEqual(["webhook:recent"]);
  });
});
