import prisma from "../db.server";
import { DEFAULT_SETTINGS } from "./shop-settings.server";

/**
 * The home page's setup guide, once the merchant dismissed it, stays hidden for the shop (every
 * admin user, every device). Stored on the shop's settings row, created with the defaults when
 * the shop has not saved any settings yet.
 */
export async function isSetupGuideDismissed(shop: string): Promise<boolean> {
  const row = await prisma.shopSettings.findUnique({ where: { shop }, select: { setupGuideDismissedAt: true } });
  return Boolean(row?.setupGuideDismissedAt);
}

/** Dismisses the guide; dismissing it again keeps the first time. */
export async function dismissSetupGuide(shop: string, now = new Date()): Promise<void> {
  await prisma.shopSettings.upsert({
    where: { shop },
    create: { shop, ...DEFAULT_SETTINGS, setupGuideDismissedAt: now },
    update: {},
  });
  await prisma.shopSettings.updateMany({ where: { shop, setupGuideDismissedAt: null }, data: { setupGuideDismissedAt: now } });
}
