/**
 * The buyer's personal data and the shops' tokens are sealed on PostgreSQL as on SQLite: the
 * rows' own text (as a read-only role or a dump gets it) holds none of them, while the app reads
 * them. The app's one client (app/db.server.ts reuses globalThis.__prisma) is pointed at a
 * throwaway PostgreSQL database before the modules that use it are loaded.
 */
import type { PrismaClient } from "@prisma/client";
import { Session } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { openProvider, type ProviderHarness } from "../database/providers";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { ADA, orderBy, personalValuesOf } from "./buyers";

const SHOP = "sealed-postgres.myshopify.com";
const ACCESS_TOKEN = "shpat_sealedpostgres_0123456789abcdef";
const REFRESH_TOKEN = "shprt_sealedpostgres_fedcba9876543210";

let harness: ProviderHarness;
let prisma: PrismaClient;

beforeAll(async () => {
  harness = await openProvider("postgresql");
  prisma = harness.client(await harness.freshDatabase());
  globalThis.__prisma = prisma;
}, 180_000);

afterAll(async () => {
  globalThis.__prisma = undefined;
  await harness?.close();
});

it("no row's text holds the buyer's personal data or a token; the app reads them", { timeout: 180_000 }, async () => {
  const { configureShop } = await import("../support/outbox");
  const { acceptOrderWebhook } = await import("~/orders/intake.server");
  const { customerDataHeld } = await import("~/privacy/compliance.server");
  const { SealedSessionStorage } = await import("~/shops/sealed-session-storage.server");
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  await acceptOrderWebhook({ shop: SHOP, payload: { ...orderBy(ADA, 9701), note: `Ring ${ADA.firstName}` }, webhookId: "wh-9701" });
  await acceptOrderWebhook({ shop: SHOP, payload: { ...orderBy(ADA, 9702), line_items: "not a list" }, webhookId: "wh-9702" });
  const storage = new SealedSessionStorage(new PrismaSessionStorage(prisma));
  await storage.storeSession(new Session({ id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN }));

  const rows = await prisma.$queryRawUnsafe<{ text: string }[]>(`SELECT d::text AS "text" FROM "Delivery" d UNION ALL SELECT s::text FROM "Session" s`);
  expect(rows).toHaveLength(3);
  const all = rows.map((row) => row.text).join("\n");
  expect(personalValuesOf(ADA).filter((value) => all.includes(value))).toEqual([]);
  expect([ACCESS_TOKEN, REFRESH_TOKEN].filter((token) => all.includes(token))).toEqual([]);

  expect(JSON.stringify(await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: ["9702"] }))).toContain(ADA.email);
  expect(await storage.loadSession(`offline_${SHOP}`)).toMatchObject({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN });
});
