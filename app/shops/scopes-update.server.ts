import { z } from "zod";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { triggeredAtOf } from "./uninstall.server";

/**
 * What app/scopes_update carries that the app uses: the scopes granted now, and when they were
 * granted. `previous` and `id` are not needed. A scope is joined into a comma-separated list, so
 * one containing a comma or a space could not be stored faithfully: such a body is not used.
 */
const scopesUpdateSchema = z.object({
  current: z.array(z.string().regex(/^[^\s,]+$/, "a scope name without commas or spaces")),
  updated_at: z.string().nullish(),
});

export type ScopesUpdate = { scopes: string[]; grantedAt: Date };

/**
 * Reads a scopes_update body. The time comes from the body's `updated_at` (covered by Shopify's
 * signature, unlike the headers), else from `X-Shopify-Triggered-At`, else it is taken as now.
 */
export function readScopesUpdate(
  payload: unknown,
  options: { triggeredAtHeader?: string | null; now?: Date } = {},
): { ok: true; update: ScopesUpdate } | { ok: false; reason: string } {
  const parsed = scopesUpdateSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `Not a scopes update: ${issue.path.join(".") || "body"}: ${issue.message}` };
  }
  const grantedAt =
    triggeredAtOf(parsed.data.updated_at ?? null) ?? triggeredAtOf(options.triggeredAtHeader ?? null) ?? options.now ?? new Date();
  return { ok: true, update: { scopes: parsed.data.current, grantedAt } };
}

export type ScopesUpdateOutcome =
  | { outcome: "applied"; sessions: number }
  | { outcome: "superseded"; by: "newer_scopes_update" | "later_install" };

/**
 * Writes the granted scopes to every session of the shop (Shopify's template does the same), so
 * that the stored scope is what the shop granted, not what it granted at the last token exchange.
 *
 * An update granted before the scope the sessions already hold is not applied, which makes a late
 * or repeated delivery harmless. The sessions' scope is newer when a later scopes_update was
 * applied (`ShopSettings.scopesUpdatedAt`) or when a token exchange stored it afterwards (the auth
 * hook records every one as `ShopSettings.installedAt`). Shopify's time is compared with ours as
 * it is, as for app/uninstalled. A shop without settings has no install recorded by this app:
 * its sessions are updated without that check.
 */
export async function applyScopesUpdate(shop: string, update: ScopesUpdate): Promise<ScopesUpdateOutcome> {
  const scope = update.scopes.join(",");
  const result = await prisma.$transaction(async (tx): Promise<ScopesUpdateOutcome> => {
    // Conditional, so that of two updates applied at once the older finds the newer's time (the
    // row stays locked until commit) and changes nothing.
    const claimed = await tx.shopSettings.updateMany({
      where: {
        shop,
        installedAt: { lte: update.grantedAt },
        OR: [{ scopesUpdatedAt: null }, { scopesUpdatedAt: { lte: update.grantedAt } }],
      },
      data: { scopesUpdatedAt: update.grantedAt },
    });
    if (claimed.count === 0) {
      const settings = await tx.shopSettings.findUnique({ where: { shop }, select: { installedAt: true } });
      if (settings) return { outcome: "superseded", by: settings.installedAt > update.grantedAt ? "later_install" : "newer_scopes_update" };
    }
    const sessions = await tx.session.updateMany({ where: { shop }, data: { scope } });
    return { outcome: "applied", sessions: sessions.count };
  });
  if (result.outcome === "applied") {
    logger.info("shop scopes updated", { shop, scope, sessions: result.sessions, grantedAt: update.grantedAt.toISOString() });
  } else {
    logger.info("scopes update ignored: the sessions hold a newer scope", { shop, by: result.by, grantedAt: update.grantedAt.toISOString() });
  }
  return result;
}

/**
 * A signed scopes_update whose body cannot be used is logged with the reason and acknowledged:
 * Shopify would only send the same bytes again, and the next token exchange stores the scope the
 * shop has granted anyway.
 */
export function ignoreUnusableScopesUpdate(input: { shop: string; webhookId: string | null; reason: string }): void {
  logger.warn("scopes update not applied: its body cannot be used", input);
}

/** A verified app/scopes_update: read, then applied to the shop's sessions or ignored with the reason. */
export async function acceptScopesUpdateWebhook(input: {
  shop: string;
  webhookId: string | null;
  payload: unknown;
  triggeredAtHeader: string | null;
}): Promise<ScopesUpdateOutcome | { outcome: "unusable"; reason: string }> {
  const read = readScopesUpdate(input.payload, { triggeredAtHeader: input.triggeredAtHeader });
  if (!read.ok) {
    ignoreUnusableScopesUpdate({ shop: input.shop, webhookId: input.webhookId, reason: read.reason });
    return { outcome: "unusable", reason: read.reason };
  }
  return applyScopesUpdate(input.shop, read.update);
}
