import type { Prisma } from "@prisma/client";
import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { DOCS_ORDER, orderFixture } from "./fixtures";

export { DOCS_ORDER } from "./fixtures";

/** Saves Refersion keys for a shop with the defaults a merchant would keep. */
export async function configureShop(shop: string, keys: { publicKey: string; secretKey: string }) {
  await saveShopSettings(shop, {
    publicKey: keys.publicKey,
    secretKey: keys.secretKey,
    forwardingEnabled: true,
    currency: "shop",
    forwardTestOrders: true,
    sendCustomerDetails: true,
    autoCreditAffiliate: false,
  });
}

/** Records a fixture order for a shop, with its id replaced so one fixture yields many orders. */
export async function enqueueFixtureOrder(shop: string, orderId: number, fixture = DOCS_ORDER) {
  const order = { ...orderFixture(fixture), id: orderId, admin_graphql_api_id: `gid://shopify/Order/${orderId}` };
  return acceptOrderWebhook({ shop, payload: order, webhookId: `webhook-${orderId}` });
}

export function deliveryOf(shop: string, orderId: string) {
  return prisma.delivery.findUniqueOrThrow({
    where: { shop_orderId_kind: { shop, orderId, kind: "order" } },
    include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } },
  });
}

let sequence = 0;

/** The JSON a mapped order sends to Refersion (shape of the seed's step 3), for log rows. */
export function conversionJson(orderId: string): string {
  return JSON.stringify({
    cart_id: `c1-${orderId}`,
    order_id: orderId,
    currency_code: "USD",
    shipping: 2.5,
    tax: 1,
    discount: 0,
    items: [{ sku: "SKU-1", quantity: 2, price: 4.5, name: "Socks" }],
  });
}

/** What conversionJson's order comes to: 2 × 4.50 + 2.50 shipping + 1.00 tax. */
const CONVERSION_TOTAL = "12.50";

/**
 * A row of the outbox as the intake and the worker leave it; pass what differs. Like a real
 * row: its total is what its request body adds up to, it was placed when it arrived, its click
 * data came from the storefront's cart (the body's cart id), and a delivered row says when.
 */
export async function insertDelivery(
  shop: string,
  overrides: Partial<Prisma.DeliveryUncheckedCreateInput> = {},
  attempts: Omit<Prisma.DeliveryAttemptUncheckedCreateInput, "deliveryId" | "shop">[] = [],
) {
  sequence += 1;
  const orderId = overrides.orderId ?? String(7_000_000 + sequence);
  const createdAt = overrides.createdAt ?? new Date();
  const status = overrides.status ?? "delivered";
  const row = await prisma.delivery.create({
    data: {
      shop,
      orderId,
      orderName: `#${1000 + sequence}`,
      totalAmount: CONVERSION_TOTAL,
      currency: "USD",
      status,
      requestBody: conversionJson(orderId),
      attempts: attempts.length,
      createdAt,
      orderPlacedAt: createdAt,
      attributionSource: "cart_token",
      ...(status === "delivered" ? { deliveredAt: createdAt } : {}),
      ...overrides,
    },
  });
  for (const attempt of attempts) await prisma.deliveryAttempt.create({ data: { ...attempt, deliveryId: row.id, shop } });
  return row;
}
