/**
 * The buyer's personal data and the shops' Shopify tokens are sealed at rest: the database file
 * holds none of them in plain text, while everything that reads them through the app (the
 * delivery worker, the admin's delivery log, data requests, redaction, retention, the offline
 * access) still gets them. Key rotation seals them again; rows and sessions written before
 * sealing existed are still read, and sealed by the rotation.
 */
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Session } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import prisma from "~/db.server";
import { createConfiguredWorker } from "~/background/background-work.server";
import { loadDeliveryDetail } from "~/admin/deliveries-page.server";
import { openValue, sealValue, sealedKeyId } from "~/database/sealed-values.server";
import { keyIdOf } from "~/database/secret-box.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { recordUnreadableWebhook } from "~/outbox/unreadable.server";
import { customerDataHeld, redactCustomer } from "~/privacy/compliance.server";
import { removeExpiredPersonalData } from "~/privacy/retention.server";
import { resealStoredData } from "~/settings/sealed-data-rotation.server";
import { SealedSessionStorage } from "~/shops/sealed-session-storage.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { shopCli } from "../support/cli";
import { configureShop } from "../support/outbox";
import { TEST_ENV } from "../support/test-env";
import { ADA, BO, orderBy, personalValuesOf } from "./buyers";

const SHOP = "sealed-shop.myshopify.com";
const APP_KEY = TEST_ENV.APP_ENCRYPTION_KEY;
const NEW_KEY = "a1".repeat(32);
const ACCESS_TOKEN = "shpat_sealedshop_0123456789abcdef0123";
const REFRESH_TOKEN = "shprt_sealedshop_fedcba98765432100123";

/** The full order Shopify sends: addresses, phone, note and browser details included. */
function fullOrder(orderId: number) {
  return { ...orderBy(ADA, orderId), phone: ADA.phone, note: `Ring ${ADA.firstName} at ${ADA.street}` };
}

/** The bytes of the SQLite database (its write-ahead log included), as whoever copies the file gets them. */
function databaseBytes(): string {
  const file = fileURLToPath(new URL(process.env.DATABASE_URL!.replace(/^file:/, "file://")));
  return [file, `${file}-wal`, `${file}-journal`]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString("latin1"))
    .join("\n");
}

function plainValuesIn(bytes: string, values: string[]): string[] {
  return values.filter((value) => bytes.includes(value));
}

let sandbox: RefersionSandbox;

function worker() {
  return createConfiguredWorker({
    now: () => new Date(Date.now() + 1_000),
    random: () => 0.5,
    config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 1_000, leaseMs: 60_000, concurrency: 1, pollMs: 50 },
  });
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  sandbox.reset();
  await prisma.deliveryAttempt.deleteMany();
  await prisma.delivery.deleteMany();
  await prisma.session.deleteMany();
  await prisma.complianceRequest.deleteMany();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
});

describe("the buyer's personal data at rest", () => {
  it("is in no stored row in plain text, yet the worker, the admin, data requests, redaction and retention work", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: fullOrder(9601), webhookId: "wh-9601" });
    await acceptOrderWebhook({ shop: SHOP, payload: fullOrder(9602), webhookId: "wh-9602" });
    // Unmappable: kept for Retry, with an excerpt for diagnosis.
    await acceptOrderWebhook({ shop: SHOP, payload: { ...fullOrder(9603), line_items: "not a list" }, webhookId: "wh-9603" });
    await prisma.$executeRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)").catch(() => undefined);

    const raw = await prisma.$queryRaw<{ orderId: string; text: string }[]>`
      SELECT "orderId", COALESCE("orderPayload", '') || COALESCE("requestBody", '') || COALESCE("sourceExcerpt", '') AS "text" FROM "Delivery"`;
    expect(raw).toHaveLength(3);
    for (const row of raw) expect(plainValuesIn(row.text, personalValuesOf(ADA)), row.orderId).toEqual([]);
    expect(plainValuesIn(databaseBytes(), [...personalValuesOf(ADA), "Louisville", "40202"])).toEqual([]);

    // Delivered with the customer block, as Refersion expects it.
    await worker().drain();
    const sent = sandbox.orders().find((request) => request.orderId === "9601");
    expect(sent?.body).toMatchObject({ order_id: "9601", customer: { email: ADA.email, first_name: ADA.firstName, last_name: ADA.lastName, ip_address: ADA.ip } });

    // The admin's delivery detail shows the JSON sent, customer included.
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "9601" } });
    const detail = await loadDeliveryDetail(SHOP, row.id);
    expect(detail?.requestJson).toContain(ADA.email);

    // A data request finds the customer's orders (by the customer id) and shows what is held.
    const held = await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: [] });
    expect(held.map((entry) => entry.orderId).sort()).toEqual(["9601", "9602"]);
    expect(JSON.stringify(held)).toContain(ADA.email);

    // Retention, then a redaction: the buyer is gone, amounts and items stay.
    expect(await removeExpiredPersonalData({ now: new Date(Date.now() + 40 * 86_400_000), retentionDays: 30 })).toBeGreaterThan(0);
    await acceptOrderWebhook({ shop: SHOP, payload: fullOrder(9604), webhookId: "wh-9604" });
    await redactCustomer(SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [9604] });
    const after = await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: ["9604"] });
    expect(after.find((entry) => entry.orderId === "9604")?.personalDataRemovedAt).not.toBeNull();
    for (const entry of after) expect(plainValuesIn(JSON.stringify(entry), [ADA.email, ADA.firstName, ADA.ip]), entry.orderId).toEqual([]);
    expect(after.find((entry) => entry.orderId === "9601")?.sentToRefersion).toMatchObject({ order_id: "9601", items: expect.any(Array) });
  });

  it("of a body that could not be read is sealed whole, and shown to the merchant as it came", async () => {
    const rawExcerpt = `{"id":9641,"email":"${ADA.email}","phone":"${ADA.phone}",`;
    const { deliveryId } = await recordUnreadableWebhook({ shop: SHOP, webhookId: "wh-9641", rawExcerpt, reason: "Unexpected end of JSON input" });
    const [raw] = await prisma.$queryRaw<{ sourceExcerpt: string }[]>`SELECT "sourceExcerpt" FROM "Delivery" WHERE "id" = ${deliveryId}`;
    expect(sealedKeyId(raw.sourceExcerpt)).toBe(keyIdOf(APP_KEY));
    expect(plainValuesIn(raw.sourceExcerpt, personalValuesOf(ADA))).toEqual([]);
    expect((await loadDeliveryDetail(SHOP, deliveryId!))?.sourceExcerpt).toBe(rawExcerpt);
  });

  it("reads rows written before sealing existed, delivers them, and the rotation command seals them", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: orderBy(BO, 9611), webhookId: "wh-9611" });
    const { id } = await prisma.delivery.findFirstOrThrow({ where: { orderId: "9611" } });
    // As an older version wrote it: the whole order and the JSON for Refersion in plain text.
    const legacyOrder = JSON.stringify(orderBy(BO, 9611));
    const legacyBody = JSON.stringify({ cart_id: "c", order_id: "9611", shipping: 0, tax: 0, discount: 0, currency_code: "USD", customer: { email: BO.email }, items: [{ price: 1, quantity: 1, sku: "S", name: "N" }] });
    await prisma.$executeRaw`UPDATE "Delivery" SET "orderPayload" = ${legacyOrder}, "requestBody" = ${legacyBody}, "sourceExcerpt" = ${`excerpt of ${BO.email}`} WHERE "id" = ${id}`;

    const read = await prisma.delivery.findUniqueOrThrow({ where: { id } });
    expect(read.orderPayload).toBe(legacyOrder);
    expect(read.sourceExcerpt).toBe(`excerpt of ${BO.email}`);
    expect(JSON.stringify(await customerDataHeld(SHOP, { customerId: String(BO.id), orderIds: [] }))).toContain(BO.email);

    const report = await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY] } });
    expect(report).toMatchObject({ deliveriesResealed: 1, failed: [] });
    const [rawRow] = await prisma.$queryRaw<{ text: string }[]>`SELECT "orderPayload" || "requestBody" || "sourceExcerpt" AS "text" FROM "Delivery" WHERE "id" = ${id}`;
    expect(plainValuesIn(rawRow.text, personalValuesOf(BO))).toEqual([]);
    expect(JSON.parse((await prisma.delivery.findUniqueOrThrow({ where: { id } })).orderPayload!)).toEqual(JSON.parse(legacyOrder));

    await worker().drain();
    expect(sandbox.orders().find((request) => request.orderId === "9611")?.body).toMatchObject({ customer: { email: BO.email } });
    // Run again: nothing left to seal.
    expect(await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY] } })).toMatchObject({ deliveriesResealed: 0, sessionsResealed: 0 });
  });

  it("is sealed again under a new key by the rotation, and opens only with it", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: fullOrder(9621), webhookId: "wh-9621" });
    await new SealedSessionStorage(new PrismaSessionStorage(prisma)).storeSession(
      new Session({ id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN }),
    );
    const keyIds = async () => {
      const [row] = await prisma.$queryRaw<{ requestBody: string; sourceExcerpt: string | null }[]>`SELECT "requestBody", "sourceExcerpt" FROM "Delivery" WHERE "orderId" = '9621'`;
      const [session] = await prisma.$queryRaw<{ accessToken: string; refreshToken: string }[]>`SELECT "accessToken", "refreshToken" FROM "Session"`;
      return [sealedKeyId(JSON.parse(row.requestBody).customer), sealedKeyId(session.accessToken), sealedKeyId(session.refreshToken)];
    };
    expect(await keyIds()).toEqual([keyIdOf(APP_KEY), keyIdOf(APP_KEY), keyIdOf(APP_KEY)]);

    // The new key in force, the old one as the previous.
    const rotated = await resealStoredData({ keys: { current: NEW_KEY, all: [NEW_KEY, APP_KEY] } });
    expect(rotated).toMatchObject({ keyId: keyIdOf(NEW_KEY), deliveriesResealed: 1, sessionsResealed: 1, failed: [] });
    expect(await keyIds()).toEqual([keyIdOf(NEW_KEY), keyIdOf(NEW_KEY), keyIdOf(NEW_KEY)]);
    const underNewKey = new SealedSessionStorage(new PrismaSessionStorage(prisma), () => ({ current: NEW_KEY, all: [NEW_KEY] }));
    expect(await underNewKey.loadSession(`offline_${SHOP}`)).toMatchObject({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN });
    // Without the key that sealed them, nothing opens, and nothing is rewritten.
    const withoutIt = await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY] } });
    expect(withoutIt.failed.map((failure) => failure.table).sort()).toEqual(["Delivery", "Session"]);
    expect(await keyIds()).toEqual([keyIdOf(NEW_KEY), keyIdOf(NEW_KEY), keyIdOf(NEW_KEY)]);

    // Back to the test environment's key, where the app reads them again.
    await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY, NEW_KEY] } });
    const held = await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: [] });
    expect(JSON.stringify(held)).toContain(ADA.email);
  });
});

describe("order webhooks waiting to be acted on", () => {
  it("are sealed again by the rotation: one left under the previous key would never be acted on once that key is removed", async () => {
    const body = JSON.stringify(fullOrder(9641));
    await prisma.receivedWebhook.create({
      data: { webhookId: "wh-9641", shop: SHOP, topic: "orders/create", apiVersion: "2026-10", payload: sealValue(body, APP_KEY) },
    });
    const stored = async () => (await prisma.receivedWebhook.findUniqueOrThrow({ where: { webhookId: "wh-9641" }, select: { payload: true } })).payload;
    try {
      const rotated = await resealStoredData({ keys: { current: NEW_KEY, all: [NEW_KEY, APP_KEY] } });
      expect(rotated).toMatchObject({ receivedWebhooksResealed: 1, failed: [] });
      expect(sealedKeyId(await stored())).toBe(keyIdOf(NEW_KEY));
      expect(openValue(await stored(), [NEW_KEY])).toBe(body);
      // Without the key that sealed it, it is reported and left as it is.
      const withoutIt = await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY] } });
      expect(withoutIt.failed.filter((failure) => failure.table === "ReceivedWebhook").length).toBe(1);
      expect(sealedKeyId(await stored())).toBe(keyIdOf(NEW_KEY));
    } finally {
      await resealStoredData({ keys: { current: APP_KEY, all: [APP_KEY, NEW_KEY] } });
      await prisma.receivedWebhook.delete({ where: { webhookId: "wh-9641" } });
    }
  });
});

describe("the rotation command", () => {
  it("`npm run -s shop -- rotate-encryption-key` seals rows and sessions written before, and says how many", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: orderBy(BO, 9631), webhookId: "wh-9631" });
    const legacyBody = JSON.stringify({ order_id: "9631", customer: { email: BO.email }, items: [] });
    await prisma.$executeRaw`UPDATE "Delivery" SET "requestBody" = ${legacyBody} WHERE "orderId" = '9631'`;
    await new PrismaSessionStorage(prisma).storeSession(new Session({ id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, accessToken: ACCESS_TOKEN }));

    const { stdout } = await shopCli(["rotate-encryption-key"], process.env.DATABASE_URL!);
    expect(stdout).toContain(`Stored data sealed with key ${keyIdOf(APP_KEY)}: 1 order row, 1 session, 0 waiting order webhooks, 0 could not be opened`);
    const [raw] = await prisma.$queryRaw<{ text: string }[]>`
      SELECT d."requestBody" || s."accessToken" AS "text" FROM "Delivery" d, "Session" s WHERE d."orderId" = '9631'`;
    expect(plainValuesIn(raw.text, [BO.email, ACCESS_TOKEN])).toEqual([]);
  });
});

describe("Shopify tokens at rest", () => {
  it("are not in the Session table in plain text; loaded and found by shop as they were stored", async () => {
    const storage = new SealedSessionStorage(new PrismaSessionStorage(prisma));
    const session = new Session({ id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, scope: "read_orders", accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN, expires: new Date(Date.now() + 3_600_000), refreshTokenExpires: new Date(Date.now() + 86_400_000) });
    await storage.storeSession(session);
    // The caller's session is not changed by storing it.
    expect(session.accessToken).toBe(ACCESS_TOKEN);
    const [raw] = await prisma.$queryRaw<{ accessToken: string; refreshToken: string }[]>`SELECT "accessToken", "refreshToken" FROM "Session"`;
    expect(raw.accessToken).not.toContain(ACCESS_TOKEN.slice(6, 20));
    expect(raw.refreshToken).not.toContain(REFRESH_TOKEN.slice(6, 20));
    await prisma.$executeRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)").catch(() => undefined);
    expect(plainValuesIn(databaseBytes(), [ACCESS_TOKEN, REFRESH_TOKEN, ACCESS_TOKEN.slice(6, 20)])).toEqual([]);

    expect(await storage.loadSession(session.id)).toMatchObject({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN, scope: "read_orders" });
    expect((await storage.findSessionsByShop(SHOP)).map((found) => found.accessToken)).toEqual([ACCESS_TOKEN]);
  });

  it("stored before sealing existed: loaded as they are, sealed when next stored", async () => {
    await new PrismaSessionStorage(prisma).storeSession(new Session({ id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN }));
    const storage = new SealedSessionStorage(new PrismaSessionStorage(prisma));
    const loaded = await storage.loadSession(`offline_${SHOP}`);
    expect(loaded).toMatchObject({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN });
    await storage.storeSession(loaded!);
    const [raw] = await prisma.$queryRaw<{ accessToken: string }[]>`SELECT "accessToken" FROM "Session"`;
    expect(sealedKeyId(raw.accessToken)).toBe(keyIdOf(APP_KEY));
    expect(await storage.loadSession(`offline_${SHOP}`)).toMatchObject({ accessToken: ACCESS_TOKEN });
  });
});
