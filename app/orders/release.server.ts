import prisma from "../db.server";
import { logger } from "../logger.server";
import { ORDER_KIND } from "../outbox/delivery-kind";
import { keepPersonalDataRemoved } from "../privacy/personal-data";
import { rebuildPendingReversals } from "../reversals/store.server";
import { SecretBoxError } from "../settings/secret-box.server";
import { getShopSettings, hasKeys, refersionKeysOf } from "../settings/shop-settings.server";
import { clickHintsFor } from "../attribution/click-hints.server";
import { orderIdOf } from "./order-id";
import { planOrder, plannedColumns } from "./plan";
import { storedOrderJson } from "./stored-order";

/**
 * Orders that waited (for payment, for keys) are planned again when what they waited for
 * arrives, with the settings of that moment. Every release is a conditional update from the
 * waiting status, so two callers at once release an order once. An order whose JSON changed has
 * its unsent reversals planned again against it (app/reversals/store.server.ts).
 */

export type ReleaseOutcome = "queued" | "waiting_for_keys" | "skipped" | "unmappable";

/**
 * Moves the order's row from waiting_for_payment to what the order now deserves (pending,
 * waiting for keys, skipped), mapped from the orders/paid payload with the settings in force:
 * the order as it was paid is the order that is credited. Null when no row was waiting.
 */
export async function releaseOrderOnPayment(
  shop: string,
  payload: unknown,
  now = new Date(),
): Promise<{ outcome: ReleaseOutcome; deliveryId: string; orderId: string } | null> {
  const orderId = orderIdOf(payload);
  if (!orderId) return null;
  const row = await prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind: ORDER_KIND } },
    select: { id: true, status: true, orderPayload: true, personalDataRemovedAt: true },
  });
  if (!row || row.status !== "waiting_for_payment") return null;

  const settings = await getShopSettings(shop);
  // The buyer's personal data was removed from this order (customers/redact, or retention):
  // the paid payload brings it back, so it is removed before anything is mapped or stored.
  const redacted = row.personalDataRemovedAt !== null;
  let order = keepPersonalDataRemoved(payload, row.personalDataRemovedAt);
  const clicks = { hints: await clickHintsFor(shop, orderId) };
  let plan = planOrder(order, settings, "orders/paid", clicks);
  if (!plan.mapped && row.orderPayload) {
    // The paid payload cannot be mapped but the created one could: send that one.
    order = JSON.parse(row.orderPayload);
    plan = planOrder(order, settings, "orders/paid", clicks);
  }
  const data = plan.mapped
    ? {
        ...plannedColumns(plan),
        orderPayload: storedOrderJson(order),
        nextAttemptAt: now,
        // A fresh payload: the retention period starts again for it, unless it was cleaned above.
        personalDataRemovedAt: redacted ? row.personalDataRemovedAt : null,
      }
    : plannedColumns(plan);
  const { count } = await prisma.delivery.updateMany({ where: { id: row.id, shop, status: "waiting_for_payment" }, data });
  if (count === 0) return null;
  await rebuildPendingReversals(shop, orderId);
  logger.info("order released on payment", { shop, orderId, deliveryId: row.id, status: plan.status });
  const outcome: ReleaseOutcome =
    plan.status === "pending" ? "queued" : plan.status === "waiting_for_keys" ? "waiting_for_keys" : plan.status === "failed" ? "unmappable" : "skipped";
  return { outcome, deliveryId: row.id, orderId };
}

/**
 * Maps the orders that arrived before the shop had keys with the settings now saved, and
 * hands them to the worker. Returns how many became due.
 */
export async function releaseOrdersWaitingForKeys(shop: string, now = new Date()): Promise<number> {
  const settings = await getShopSettings(shop);
  if (!hasKeys(settings)) return 0;
  const waiting = await prisma.delivery.findMany({
    where: { shop, status: "waiting_for_keys" },
    select: { id: true, orderId: true, kind: true, orderPayload: true },
  });
  let released = 0;
  for (const row of waiting) {
    if (row.kind !== ORDER_KIND) {
      // A reversal (the worker parks any due row here while the shop has no keys): its body
      // is rebuilt with its order below; it only needs to become due again.
      await prisma.delivery.updateMany({
        where: { id: row.id, shop, status: "waiting_for_keys" },
        data: { status: "pending", reasonCode: null, reasonDetail: null, nextAttemptAt: now },
      });
      continue;
    }
    const plan = row.orderPayload ? planOrder(JSON.parse(row.orderPayload), settings, "keys_saved", { hints: await clickHintsFor(shop, row.orderId) }) : null;
    const data = plan
      ? { ...plannedColumns(plan), ...(plan.mapped ? { nextAttemptAt: now } : {}) }
      : { status: "failed" as const, reasonCode: "stored_order_unavailable" as const, reasonDetail: null };
    // Conditional on the status, so two concurrent saves release each order once.
    const { count } = await prisma.delivery.updateMany({ where: { id: row.id, shop, status: "waiting_for_keys" }, data });
    if (count === 1 && data.status === "pending") released += 1;
    // The order's JSON may have changed (settings saved since): reversals recorded while it
    // waited must cancel exactly what will now be sent.
    if (count === 1) await rebuildPendingReversals(shop, row.orderId);
  }
  if (released > 0) logger.info("orders waiting for keys released", { shop, released });
  return released;
}

/**
 * Orders parked because their shop's secret key could not be decrypted are released once it can
 * be again (APP_ENCRYPTION_KEY_PREVIOUS set, a rotation finished), without waiting for the
 * merchant to save the keys. The background work runs it at start and hourly.
 */
export async function releaseOrdersParkedForUnreadableSecret(now = new Date()): Promise<number> {
  const shops = await prisma.delivery.findMany({
    where: { status: "waiting_for_keys", reasonCode: "secret_unreadable" },
    select: { shop: true },
    distinct: ["shop"],
  });
  let released = 0;
  for (const { shop } of shops) {
    try {
      if (!refersionKeysOf(await getShopSettings(shop))) continue;
    } catch (error) {
      if (error instanceof SecretBoxError) continue;
      throw error;
    }
    released += await releaseOrdersWaitingForKeys(shop, now);
  }
  return released;
}
