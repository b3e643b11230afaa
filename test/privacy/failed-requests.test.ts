/**
 * A compliance request the app cannot carry out is not lost: it is recorded as failed, shown on
 * the Privacy requests page, and carried out by the hourly maintenance once it can be.
 */
import prisma from "~/db.server";
import { loadPrivacyPage } from "~/admin/privacy-page.server";
import { recordCustomerDataRequest, redactCustomer, redactShop, retryFailedComplianceRequests } from "~/privacy/compliance.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { configureShop } from "../support/outbox";
import { ADA, orderBy } from "./buyers";

const SHOP = "failing-privacy.myshopify.com";

beforeEach(async () => {
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.complianceRequest.deleteMany();
  await configureShop(SHOP, { publicKey: "pub_failing", secretKey: "sec_failing_key" });
  await acceptOrderWebhook({ shop: SHOP, payload: orderBy(ADA, 91_001), webhookId: "wh-91001" });
});

/** Runs `request` while the database refuses every transaction, as it does a statement it cannot run. */
async function whileTransactionsFail(request: () => Promise<unknown>) {
  // Prisma's client is a proxy that spyOn cannot restore: the original is put back by hand.
  const original = prisma.$transaction.bind(prisma);
  const spy = vi.spyOn(prisma, "$transaction").mockRejectedValue(new Error("database refused the statement"));
  try {
    await request();
  } finally {
    spy.mockImplementation(original as typeof prisma.$transaction);
  }
}

describe("failed compliance requests", () => {
  it("records a customers/redact that failed, shows it on the page, and carries it out on the next maintenance pass", async () => {
    await whileTransactionsFail(() => redactCustomer(SHOP, { customer: { id: ADA.id }, orders_to_redact: [91_001] }));
    const failed = await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP, topic: "customers/redact" } });
    expect(failed.status).toBe("failed");
    expect((await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "91001" } })).personalDataRemovedAt).toBeNull();

    const page = await loadPrivacyPage(SHOP);
    expect(page.unfinished).toEqual([expect.objectContaining({ id: failed.id, what: "Erase a customer's data", customerId: String(ADA.id), attempts: 1 })]);
    expect(await loadPrivacyPage("another-shop.myshopify.com")).toMatchObject({ unfinished: [] });

    expect(await retryFailedComplianceRequests()).toBe(1);
    const done = await prisma.complianceRequest.findUniqueOrThrow({ where: { id: failed.id } });
    expect(done).toMatchObject({ status: "done", attempts: 2, outcome: "Stored orders with personal data removed: 1" });
    expect((await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "91001" } })).personalDataRemovedAt).not.toBeNull();
    expect((await loadPrivacyPage(SHOP)).unfinished).toEqual([]);
  });

  it("keeps a request that fails again, counting the attempt", async () => {
    await whileTransactionsFail(() => redactCustomer(SHOP, { customer: { id: ADA.id } }));
    await whileTransactionsFail(async () => expect(await retryFailedComplianceRequests()).toBe(0));
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "failed", attempts: 2 });
  });

  it("records a failed data request as not done yet, and answers it on retry", async () => {
    const original = prisma.delivery.findMany.bind(prisma.delivery);
    const spy = vi.spyOn(prisma.delivery, "findMany").mockRejectedValue(new Error("database refused the statement"));
    await recordCustomerDataRequest(SHOP, { customer: { id: ADA.id }, orders_requested: [91_001] });
    spy.mockImplementation(original as typeof prisma.delivery.findMany);
    const failed = await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP, topic: "customers/data_request" } });
    expect(failed.status).toBe("failed");
    expect((await loadPrivacyPage(SHOP)).unfinished).toHaveLength(1);
    await retryFailedComplianceRequests();
    expect(await prisma.complianceRequest.findUniqueOrThrow({ where: { id: failed.id } })).toMatchObject({ status: "done", outcome: "Stored orders found: 1" });
  });

  it("retries a failed shop/redact until the shop's data is gone, its own record included", async () => {
    await whileTransactionsFail(() => redactShop(SHOP));
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(1);
    expect(await prisma.complianceRequest.count({ where: { shop: SHOP, topic: "shop/redact", status: "failed" } })).toBe(1);
    await retryFailedComplianceRequests();
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.complianceRequest.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.shopSettings.count({ where: { shop: SHOP } })).toBe(0);
  });
});

describe("a data request naming thousands of orders on the Privacy requests page", () => {
  it("shows the first ten order ids and how many there are", async () => {
    const orders = Array.from({ length: 2_500 }, (_, index) => 70_000 + index);
    await recordCustomerDataRequest(SHOP, { customer: { id: ADA.id }, orders_requested: orders });
    const [request] = (await loadPrivacyPage(SHOP)).requests;
    expect(request).toMatchObject({ ordersRequested: 2_500, orderIds: orders.slice(0, 10).map(String), downloadable: true });
  });
});
