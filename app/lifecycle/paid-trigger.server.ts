import type { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { ORDER_KIND } from "../forwarding/delivery-kind";
import { acceptOrderWebhook, decideDelivery, orderIdOf, type IntakeResult } from "../forwarding/order-intake.server";
import { keepPersonalDataRemoved } from "../privacy/personal-data";
import { mapOrderToConversion } from "../refersion/mapping";
import { getShopSettings, mappingOptionsFor } from "../settings/shop-settings.server";
import { rebuildPendingReversals } from "./reversal-store.server";

/**
 * orders/paid. With the "paid" trigger, orders/create records an unpaid order as
 * waiting_for_payment and this releases it; with the "created" trigger (the default) it is a
 * backup that records an order whose orders/create never arrived. Either way an order is
 * forwarded once: its outbox row is unique per (shop, order), and the release is a conditional
 * update from waiting_for_payment, so two deliveries (or orders/create and orders/paid arriving
 * together) settle on one row that is sent once.
 */
export async function acceptPaidOrderWebhook(input: { shop: string; payload: unknown; webhookId: string | null }): Promise<IntakeResult> {
  const released = await releaseOrderOnPayment(input.shop, input.payload);
  if (released) return released;
  const recorded = await acceptOrderWebhook({ ...input, source: "orders/paid" });
  if (recorded.outcome !== "duplicate") return recorded;
  // orders/create recorded the order in the meantime, perhaps as waiting for payment.
  return (await releaseOrderOnPayment(input.shop, input.payload)) ?? recorded;
}

/**
 * Moves the order's row from waiting_for_payment to what the order now deserves (pending,
 * waiting for keys, skipped), mapped from the orders/paid payload with the settings in force:
 * the order as it was paid is the order that is credited. Null when no row was waiting.
 */
async function releaseOrderOnPayment(shop: string, payload: unknown, now = new Date()): Promise<IntakeResult | null> {
  const orderId = orderIdOf(payload);
  if (!orderId) return null;
  const row = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
    select: { id: true, status: true, orderPayload: true, personalDataRemovedAt: true },
  });
  if (!row || row.status !== "waiting_for_payment") return null;

  const settings = await getShopSettings(shop);
  const options = mappingOptionsFor(settings);
  // The buyer's personal data was removed from this order (customers/redact, or retention):
  // the paid payload brings it back, so it is removed before anything is mapped or stored.
  const redacted = row.personalDataRemovedAt !== null;
  let order = keepPersonalDataRemoved(payload, row.personalDataRemovedAt);
  let mapped = mapOrderToConversion(order, options);
  if (!mapped.ok && row.orderPayload) {
    // The paid payload cannot be mapped but the created one could: send that one.
    order = JSON.parse(row.orderPayload);
    mapped = mapOrderToConversion(order, options);
  }
  const status = mapped.ok ? decideDelivery(settings, mapped.summary).status : "failed";
  const data: Prisma.DeliveryUpdateManyMutationInput = mapped.ok
    ? {
        ...decideDelivery(settings, mapped.summary),
        reasonDetail: null,
        orderName: mapped.summary.name,
        totalAmount: mapped.summary.total,
        currency: mapped.summary.currency,
        customerId: mapped.summary.customerId,
        requestBody: JSON.stringify(mapped.conversion),
        orderPayload: JSON.stringify(order),
        nextAttemptAt: now,
        // A fresh payload: the retention period starts again for it, unless it was cleaned above.
        personalDataRemovedAt: redacted ? row.personalDataRemovedAt : null,
      }
    : { status: "failed", reasonCode: "unmappable", reasonDetail: mapped.error.message };
  const { count } = await prisma.delivery.updateMany({ where: { id: row.id, shop, status: "waiting_for_payment" }, data });
  if (count === 0) return null;
  await rebuildPendingReversals(shop, orderId);
  logger.info("order released on payment", { shop, orderId, deliveryId: row.id, status });
  const outcome = status === "pending" ? "queued" : status === "waiting_for_keys" ? "waiting_for_keys" : status === "failed" ? "unmappable" : "skipped";
  return { outcome, deliveryId: row.id, orderId };
}
