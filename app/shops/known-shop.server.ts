import DataLoader from "dataloader";
import prisma from "../db.server";

const hasSettings = new DataLoader<string, boolean>(
  async (shops) => {
    const found = new Set((await prisma.shopSettings.findMany({ where: { shop: { in: [...new Set(shops)] } }, select: { shop: true } })).map((row) => row.shop));
    return shops.map((shop) => found.has(shop));
  },
  { cache: false, batchScheduleFn: (callback) => setImmediate(callback), maxBatchSize: 500 },
);

/**
 * Whether the app knows the shop: the auth hook records every install in ShopSettings, Shopify's
 * session storage holds its sessions, and rows stored for it (orders, compliance requests) stay
 * until shop/redact. Shopify sends webhooks only to shops that installed the app; any other shop
 * domain in a signed request was written by whoever sent it.
 */
export async function isKnownShop(shop: string): Promise<boolean> {
  // Installed shops have settings: asked for the shops of webhooks handled together at once.
  if (await hasSettings.load(shop)) return true;
  const counts = await Promise.all([
    prisma.shopSettings.count({ where: { shop } }),
    prisma.session.count({ where: { shop } }),
    prisma.delivery.count({ where: { shop }, take: 1 }),
    prisma.complianceRequest.count({ where: { shop }, take: 1 }),
  ]);
  return counts.some((count) => count > 0);
}
