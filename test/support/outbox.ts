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
    shipping: 5,
    tax: 1.2,
    discount: 0,
    items: [{ sku: "SKU-1", quantity: 2, price: 6.25, name: "Socks" }],
  });
}

/** A row of the outbox as the intake and the worker leave it; pass what differs. */
export async function insertDelivery(
  shop: string,
  overrides: Partial<Prisma.DeliveryUncheckedCreateInput> = {},
  attempts: Omit<Prisma.DeliveryAttemptUncheckedCreateInput, "deliveryId" | "shop">[] = [],
) {
  sequence += 1;
  const orderId = overrides.orderId ?? String(7_000_000 + sequence);
  const row = await prisma.delivery.create({
    data: {
      shop,
      orderId,
      orderName: `#${1000 + sequence}`,
      totalAmount: "12.50",
      currency: "USD",
      status: "delivered",
      requestBody: conversionJson(orderId),
      attempts: attempts.length,
      ...overrides,
    },
  });
  for (const attempt of attempts) await prisma.deliveryAttempt.create({ data: { ...attempt, deliveryId: row.id, shop } });
  return row;
}
