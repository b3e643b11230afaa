import type { OfflineAccessProblem } from "@prisma/client";
import prisma from "../db.server";
import { logger, type LogFields } from "../logger.server";

/**
 * Why the app cannot use a shop's offline access token until the merchant opens the app (which
 * makes Shopify's library exchange the merchant's session token for a new one):
 * - no_session: no offline session is stored, or it holds no token;
 * - refresh_token_expired: the refresh token's own expiry date passed;
 * - refresh_refused: Shopify's token endpoint refused the refresh token (4xx: revoked, invalid_grant);
 * - migration_refused: Shopify refused to convert the shop's non-expiring token into an expiring one.
 * Stored as these codes (the schema's OfflineAccessProblem enum, in ShopSettings.offlineAccessProblem
 * and BackfillJob.accessProblem); the words are chosen when shown.
 */
export const OFFLINE_ACCESS_PROBLEMS = ["no_session", "refresh_token_expired", "refresh_refused", "migration_refused"] as const satisfies readonly OfflineAccessProblem[];
export type { OfflineAccessProblem };

export function isOfflineAccessProblem(value: unknown): value is OfflineAccessProblem {
  return typeof value === "string" && (OFFLINE_ACCESS_PROBLEMS as readonly string[]).includes(value);
}

const PROBLEM_TEXT: Record<OfflineAccessProblem, string> = {
  no_session: "The app has no access token for this shop.",
  refresh_token_expired: "The app's access to this shop lapsed: it was not renewed in time.",
  refresh_refused: "Shopify refused to renew the app's access to this shop (the access may have been revoked).",
  migration_refused: "Shopify refused to convert the app's access to this shop into an expiring token.",
};

/** The problem in words a merchant understands. */
export function offlineAccessProblemText(problem: OfflineAccessProblem): string {
  return PROBLEM_TEXT[problem];
}

/**
 * Records that the shop's offline access needs the merchant, and logs it (ids and codes only,
 * never a token). Only a shop the app knows (one with a settings row, made at installation) is
 * marked: a lookup for an unknown shop leaves no trace.
 */
export async function recordOfflineAccessProblem(shop: string, problem: OfflineAccessProblem, details: LogFields = {}, now = new Date()) {
  await prisma.shopSettings.updateMany({ where: { shop }, data: { offlineAccessProblem: problem, offlineAccessProblemAt: now } });
  logger.warn("offline access needs the merchant to open the app", { shop, problem, ...details });
}

/** A fresh token was stored for the shop: whatever was recorded no longer holds. */
export async function clearOfflineAccessProblem(shop: string) {
  const { count } = await prisma.shopSettings.updateMany({
    where: { shop, offlineAccessProblem: { not: null } },
    data: { offlineAccessProblem: null, offlineAccessProblemAt: null },
  });
  if (count > 0) logger.info("offline access restored", { shop });
}
