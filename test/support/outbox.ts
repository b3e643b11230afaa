import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { orderFixture } from "./fixtures";

export const DOCS_ORDER = "shopify-docs-order-1001-2026-07.json";

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
