/**
 * Order webhooks acknowledged on the fast path wait a moment in ReceivedWebhook before they are
 * acted on (docs/decisions/0014-webhook-intake-fast-path.md). A customers/* request arriving
 * meanwhile must still cover them, and their sealed bodies must not outlive the retention period.
 * On the test's SQLite database, with no background work running: the test acts on the rows itself.
 */
import prisma from "~/db.server";
import { customerDataHeld, recordCustomerDataRequest, redactCustomer, redactShop, retryFailedComplianceRequests } from "~/privacy/compliance.server";
import { removeExpiredReceivedWebhooks } from "~/privacy/retention.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { actOnReceivedWebhooks, appendReceivedWebhook, countReceivedWebhooksFailing } from "~/webhooks/received-webhooks.server";
import { configureShop } from "../support/outbox";
import { ADA, BO, orderBy, personalValuesOf, textsOf } from "../privacy/buyers";

const SHOP = "received-privacy.myshopify.com";
const OWNER = "received-privacy-test";
const DAY_MS = 86_400_000;
const actOnAll = () => actOnReceivedWebhooks({ owner: OWNER, leaseMs: 60_000 });

function receive(webhookId: string, body: unknown) {
  return appendReceivedWebhook({ webhookId, shop: SHOP, topic: "orders/create", eventId: null, apiVersion: "2025-01", body: Buffer.from(JSON.stringify(body)) });
}

async function storedTexts(orderId: number) {
  const rows = await prisma.delivery.findMany({
    where: { shop: SHOP, orderId: String(orderId) },
    select: { orderPayload: true, requestBody: true, sourceExcerpt: true, personalDataRemovedAt: true, deliveryAttempts: true },
  });
  return { rows, text: rows.map(textsOf).join("\n") };
}

beforeEach(async () => {
  await prisma.receivedWebhook.deleteMany();
  await prisma.webhookReceipt.deleteMany();
  await prisma.complianceRequest.deleteMany();
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.shopSettings.deleteMany();
  await markShopInstalled(SHOP);
  await configureShop(SHOP, { publicKey: "pub_received", secretKey: "sec_received" });
});

describe("a customers/* request while the customer's order webhook waits in ReceivedWebhook", () => {
  it("customers/redact is not done before the waiting order is stored, and then covers it", async () => {
    await receive("ada-order", orderBy(ADA, 71_001));
    await redactCustomer(SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [71_001] });
    const [request] = await prisma.complianceRequest.findMany({ where: { shop: SHOP } });
    // Not carried out over the waiting order: kept for the hourly maintenance to carry out again.
    expect(request).toMatchObject({ topic: "customers/redact", status: "failed" });

    await actOnAll();
    expect(await prisma.receivedWebhook.count()).toBe(0);
    const before = await storedTexts(71_001);
    expect(before.text).toContain(ADA.email);

    expect(await retryFailedComplianceRequests()).toBe(1);
    const after = await storedTexts(71_001);
    expect(after.rows.length).toBeGreaterThan(0);
    for (const row of after.rows) expect(row.personalDataRemovedAt).not.toBeNull();
    for (const value of personalValuesOf(ADA)) expect(after.text).not.toContain(value);
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done" });
  });

  it("customers/data_request counts the waiting order once it is stored", async () => {
    await receive("ada-order-2", orderBy(ADA, 71_002));
    await recordCustomerDataRequest(SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_requested: [71_002] });
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "failed" });
    await actOnAll();
    await retryFailedComplianceRequests();
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done", outcome: "Stored orders found: 1" });
    expect(await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: [] })).toHaveLength(1);
  });

  it("another customer's waiting order does not hold a request up", async () => {
    await receive("bo-order", orderBy(BO, 71_003));
    await redactCustomer(SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [71_001] });
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done" });
    expect(await prisma.receivedWebhook.count()).toBe(1);
  });
});

describe("shop/redact while an order webhook of the shop is being acted on", () => {
  it("waits for it: erased only once no row of the shop is held by the background work, then nothing of the shop is left", async () => {
    await receive("being-acted-on", orderBy(ADA, 74_001));
    // Leased by the background work, which is storing its order at this moment.
    await prisma.receivedWebhook.updateMany({ data: { leaseOwner: "another-thread", leaseUntil: new Date(Date.now() + 60_000) } });
    await redactShop(SHOP);
    expect(await prisma.complianceRequest.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ topic: "shop/redact", status: "failed" });
    expect(await prisma.shopSettings.count({ where: { shop: SHOP } })).toBe(1);

    // The background work finished with it: its order is stored and the row deleted.
    await prisma.receivedWebhook.updateMany({ data: { leaseOwner: null, leaseUntil: null } });
    await actOnAll();
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBeGreaterThan(0);
    expect(await retryFailedComplianceRequests()).toBe(1);
    expect(await prisma.delivery.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.shopSettings.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.complianceRequest.count({ where: { shop: SHOP } })).toBe(0);
    expect(await prisma.receivedWebhook.count({ where: { shop: SHOP } })).toBe(0);
  });
});

describe("ReceivedWebhook and the retention period", () => {
  it("a webhook acted on is deleted at once; one never acted on is deleted at the end of the retention period, with its sealed order", async () => {
    await receive("acted-on", orderBy(ADA, 72_001));
    await actOnAll();
    expect(await prisma.receivedWebhook.count()).toBe(0);

    await receive("old-failing", orderBy(ADA, 72_002));
    await receive("recent-failing", orderBy(BO, 72_003));
    const now = new Date();
    await prisma.receivedWebhook.updateMany({ where: { webhookId: "old-failing" }, data: { receivedAt: new Date(now.getTime() - 31 * DAY_MS), attempts: 40, lastError: "database is locked" } });
    await prisma.receivedWebhook.updateMany({ where: { webhookId: "recent-failing" }, data: { receivedAt: new Date(now.getTime() - 29 * DAY_MS), attempts: 30 } });
    expect(await removeExpiredReceivedWebhooks({ now, retentionDays: 30 })).toBe(1);
    expect((await prisma.receivedWebhook.findMany({ select: { webhookId: true } })).map((row) => row.webhookId)).toEqual(["recent-failing"]);
  });

  it("counts a shop's webhooks that failed to be acted on, for the home page", async () => {
    await receive("fine", orderBy(ADA, 73_001));
    await receive("failing", orderBy(BO, 73_002));
    expect(await countReceivedWebhooksFailing(SHOP)).toBe(0);
    await prisma.receivedWebhook.updateMany({ where: { webhookId: "failing" }, data: { payload: "sealed:0123456789abcdef:v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:AAAA" } });
    await actOnAll();
    expect(await countReceivedWebhooksFailing(SHOP)).toBe(1);
    expect(await countReceivedWebhooksFailing("another.myshopify.com")).toBe(0);
    const [kept] = await prisma.receivedWebhook.findMany({ select: { attempts: true, lastError: true } });
    expect(kept.attempts).toBe(1);
    expect(kept.lastError).toBeTruthy();
  });
});
