import prisma from "../db.server";
import { logger } from "../logger.server";

/** Deletes the shop's sessions, stops its forwarding and cancels what was still to be sent. */
export async function markShopUninstalled(shop: string, now = new Date()) {
  const sessions = await prisma.session.deleteMany({ where: { shop } });
  // A shop with nothing left (shop/redact already erased it: this webhook came late) must not
  // come back as a settings row; any other shop is marked, keeping the first uninstall time
  // when the webhook arrives twice.
  const known = sessions.count > 0 || (await prisma.delivery.count({ where: { shop } })) > 0;
  if (known) await prisma.shopSettings.upsert({ where: { shop }, create: { shop, uninstalledAt: now }, update: {} });
  await prisma.shopSettings.updateMany({ where: { shop, uninstalledAt: null }, data: { uninstalledAt: now } });
  const { count } = await prisma.delivery.updateMany({
    where: { shop, status: { in: ["pending", "retrying", "waiting_for_keys", "waiting_for_payment"] } },
    data: { status: "skipped", reason: "The app was uninstalled before this order was delivered" },
  });
  logger.info("shop uninstalled", { shop, stoppedDeliveries: count });
}

/** A shop that installs the app again forwards again (with the keys it had saved). */
export async function markShopInstalled(shop: string) {
  await prisma.shopSettings.updateMany({ where: { shop, uninstalledAt: { not: null } }, data: { uninstalledAt: null } });
}
