import prisma from "../db.server";

/**
 * Whether the shop ever installed the app: the auth hook records every install in ShopSettings,
 * and Shopify's session storage holds its sessions. Shopify sends webhooks only to shops that
 * installed the app; any other shop domain in a signed request was written by whoever sent it.
 */
export async function isKnownShop(shop: string): Promise<boolean> {
  const [settings, sessions] = await Promise.all([
    prisma.shopSettings.count({ where: { shop } }),
    prisma.session.count({ where: { shop } }),
  ]);
  return settings + sessions > 0;
}
