import prisma from "../db.server";

/**
 * Whether the app knows the shop: the auth hook records every install in ShopSettings, Shopify's
 * session storage holds its sessions, and rows stored for it (orders, compliance requests) stay
 * until shop/redact. Shopify sends webhooks only to shops that installed the app; any other shop
 * domain in a signed request was written by whoever sent it.
 */
export async function isKnownShop(shop: string): Promise<boolean> {
  const counts = await Promise.all([
    prisma.shopSettings.count({ where: { shop } }),
    prisma.session.count({ where: { shop } }),
    prisma.delivery.count({ where: { shop }, take: 1 }),
    prisma.complianceRequest.count({ where: { shop }, take: 1 }),
  ]);
  return counts.some((count) => count > 0);
}
