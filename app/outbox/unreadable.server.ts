import crypto from "node:crypto";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { ORDER_KIND, type DeliveryKind } from "./delivery-kind";
import { isUniqueViolation } from "../database/unique-violation";

export interface UnreadableRecord {
  outcome: "unmappable" | "duplicate";
  deliveryId: string | null;
  orderId: string;
}

/**
 * Records a signed webhook whose body could not be read at all (or, for a reversal, names no
 * order or refund), so the merchant sees it in the delivery log (code unreadable_webhook, with
 * why as the detail), instead of Shopify retrying the same bytes for hours. `kind` says what it
 * would have been: an order (orders/create, orders/paid), a cancellation or a refund.
 */
export async function recordUnreadableWebhook(input: {
  shop: string;
  webhookId: string | null;
  rawExcerpt: string;
  /** Why it could not be read (the detail shown with the code). */
  reason: string;
  kind?: DeliveryKind;
}): Promise<UnreadableRecord> {
  // Without a webhook id (a resend read it), the same bytes name the same row: read twice, recorded once.
  const orderId = `unreadable-${input.webhookId ?? crypto.createHash("sha256").update(`${input.reason}\n${input.rawExcerpt}`).digest("hex").slice(0, 32)}`;
  try {
    const row = await prisma.delivery.create({
      data: {
        shop: input.shop,
        orderId,
        kind: input.kind ?? ORDER_KIND,
        status: "failed",
        reasonCode: "unreadable_webhook",
        reasonDetail: input.reason,
        sourceExcerpt: input.rawExcerpt,
        webhookId: input.webhookId,
      },
      select: { id: true },
    });
    logger.warn("unreadable webhook recorded", { shop: input.shop, webhookId: input.webhookId, kind: input.kind ?? ORDER_KIND, deliveryId: row.id });
    return { outcome: "unmappable", deliveryId: row.id, orderId };
  } catch (error) {
    if (isUniqueViolation(error)) return { outcome: "duplicate", deliveryId: null, orderId };
    throw error;
  }
}
