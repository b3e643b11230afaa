import type { AttributionSource } from "@prisma/client";
import prisma from "../db.server";

/** Every source, in the order of their precedence (app/refersion/mapping.ts). */
export const ATTRIBUTION_SOURCES: AttributionSource[] = ["cart_token", "cart_attribute", "pixel", "discount_code", "none"];

export interface AttributionShares {
  days: number;
  /** Orders received in the period whose source is recorded. */
  total: number;
  counts: Record<AttributionSource, number>;
}

/**
 * How the shop's orders of the last `days` days are credited, counted per source: orders placed
 * since `since` (the start of the shop's first day of the period), like the home page's other
 * figures, so that resent past orders count on the day they were placed; rows recorded before the
 * placing time was kept count on the day they arrived.
 */
export async function attributionSharesOf(
  shop: string,
  days: number,
  since = new Date(Date.now() - days * 86_400_000),
): Promise<AttributionShares> {
  const groups = await prisma.delivery.groupBy({
    by: ["attributionSource"],
    where: {
      shop,
      kind: "order",
      attributionSource: { not: null },
      OR: [{ orderPlacedAt: { gte: since } }, { orderPlacedAt: null, createdAt: { gte: since } }],
    },
    _count: { _all: true },
  });
  const counts = Object.fromEntries(ATTRIBUTION_SOURCES.map((source) => [source, 0])) as Record<AttributionSource, number>;
  for (const group of groups) if (group.attributionSource) counts[group.attributionSource] = group._count._all;
  return { days, total: Object.values(counts).reduce((sum, count) => sum + count, 0), counts };
}
