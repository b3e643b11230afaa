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

/** How the shop's orders received in the last `days` days are credited, counted per source. */
export async function attributionSharesOf(shop: string, days: number, now = new Date()): Promise<AttributionShares> {
  const groups = await prisma.delivery.groupBy({
    by: ["attributionSource"],
    where: { shop, kind: "order", attributionSource: { not: null }, createdAt: { gte: new Date(now.getTime() - days * 86_400_000) } },
    _count: { _all: true },
  });
  const counts = Object.fromEntries(ATTRIBUTION_SOURCES.map((source) => [source, 0])) as Record<AttributionSource, number>;
  for (const group of groups) if (group.attributionSource) counts[group.attributionSource] = group._count._all;
  return { days, total: Object.values(counts).reduce((sum, count) => sum + count, 0), counts };
}
