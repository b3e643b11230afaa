import type { BackfillStatus, DeliveryStatus } from "@prisma/client";
import prisma from "../db.server";
import { logger } from "../logger.server";

/** Outbox statuses of orders that were still to be sent. */
const UNSENT_STATUSES: DeliveryStatus[] = ["pending", "retrying", "waiting_for_keys", "waiting_for_payment"];

/** Backfill jobs that would still read orders and queue them. */
const ACTIVE_BACKFILL_STATUSES: BackfillStatus[] = ["queued", "running"];

export const UNINSTALLED_BACKFILL_ERROR = "Stopped: the app was uninstalled";

/**
 * When Shopify says the uninstall happened: the `X-Shopify-Triggered-At` header (ISO 8601, up to
 * nanoseconds). Null when it is absent or unreadable: the uninstall is then taken as happening
 * now.
 */
export function triggeredAtOf(header: string | null): Date | null {
  if (!header) return null;
  const time = Date.parse(header.trim());
  return Number.isNaN(time) ? null : new Date(time);
}

export type UninstallOutcome = "uninstalled" | "superseded_by_reinstall" | "time_unknown";

/**
 * Whether the app recorded an install of the shop. An uninstall whose time is unknown cannot be
 * told apart from an old one replayed after that install: it is not acted on for such a shop.
 */
export async function hasRecordedInstall(shop: string): Promise<boolean> {
  return (await prisma.shopSettings.count({ where: { shop, uninstalledAt: null } })) > 0;
}

/**
 * Deletes the shop's sessions, stops its forwarding and backfill, and cancels what was still to
 * be sent. An uninstall Shopify triggered before the latest install (a webhook delayed or
 * retried past a reinstall) is ignored: acting on it would delete the new sessions and skip the
 * new orders of a shop that has the app installed.
 */
export async function markShopUninstalled(
  shop: string,
  options: { now?: Date; triggeredAt?: Date | null } = {},
): Promise<UninstallOutcome> {
  const now = options.now ?? new Date();
  const triggeredAt = options.triggeredAt ?? null;
  const settings = await prisma.shopSettings.findUnique({ where: { shop }, select: { installedAt: true } });
  if (triggeredAt && settings && triggeredAt < settings.installedAt) {
    logger.info("uninstall ignored: the shop installed the app again afterwards", {
      shop,
      triggeredAt: triggeredAt.toISOString(),
      installedAt: settings.installedAt.toISOString(),
    });
    return "superseded_by_reinstall";
  }

  const sessions = await prisma.session.deleteMany({ where: { shop } });
  // A shop with nothing left (shop/redact already erased it: this webhook came late) must not
  // come back as a settings row; any other shop is marked, keeping the first uninstall time
  // when the webhook arrives twice. A row made here records the install as no later than the
  // uninstall, so this same uninstall arriving again is not mistaken for one before a reinstall.
  const known = sessions.count > 0 || (await prisma.delivery.count({ where: { shop } })) > 0;
  if (known) {
    await prisma.shopSettings.upsert({ where: { shop }, create: { shop, uninstalledAt: now, installedAt: triggeredAt ?? now }, update: {} });
  }
  await prisma.shopSettings.updateMany({ where: { shop, uninstalledAt: null }, data: { uninstalledAt: now } });
  const { count } = await prisma.delivery.updateMany({
    where: { shop, status: { in: UNSENT_STATUSES } },
    data: { status: "skipped", reasonCode: "uninstalled_before_delivery", reasonDetail: null },
  });
  // A runner holding the job loses its lease with this update: its next save fails and it
  // stops reading (app/backfill/backfill.server.ts).
  const backfills = await prisma.backfillJob.updateMany({
    where: { shop, status: { in: ACTIVE_BACKFILL_STATUSES } },
    data: { status: "failed", error: UNINSTALLED_BACKFILL_ERROR, finishedAt: now, leaseOwner: null, leaseUntil: null },
  });
  logger.info("shop uninstalled", { shop, stoppedDeliveries: count, stoppedBackfills: backfills.count });
  return "uninstalled";
}

/**
 * Every (re)install, from the auth hook: the shop forwards again (with the keys it had saved),
 * and the install time is recorded, so that an uninstall triggered before it and delivered late
 * is recognised and ignored.
 */
export async function markShopInstalled(shop: string, now = new Date()) {
  await prisma.shopSettings.upsert({
    where: { shop },
    create: { shop, installedAt: now },
    update: { installedAt: now, uninstalledAt: null },
  });
}
