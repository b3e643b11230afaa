import crypto from "node:crypto";
import { Prisma, type DeliveryReason } from "@prisma/client";
import DataLoader from "dataloader";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { mapOrderToConversion } from "../refersion/mapping";
import type { OrderSummary } from "../refersion/conversion";
import {
  getManyShopSettings,
  getShopSettings,
  hasKeys,
  mappingOptionsFor,
  refersionKeysOf,
  type StoredSettings,
} from "../settings/shop-settings.server";
import { SecretBoxError } from "../settings/secret-box.server";
import { hasBeenPaid, pastOrderSkipReason } from "../lifecycle/payment-status";
import { rebuildPendingReversals } from "../lifecycle/reversal-store.server";
import { ORDER_KIND, type DeliveryKind } from "./delivery-kind";
import { createOutboxInserter, isUniqueViolation } from "./outbox-inserts.server";
import type { DeliveryStatus } from "./delivery-status";

export type IntakeOutcome = "queued" | "waiting_for_keys" | "waiting_for_payment" | "skipped" | "unmappable" | "duplicate";

/**
 * What brought the order in: its orders/create webhook, its orders/paid webhook (the paid
 * trigger, or a backup for a missed orders/create), or "resend past orders" (no webhook).
 */
export type OrderSource = "orders/create" | "orders/paid" | "backfill";

export interface IntakeResult {
  outcome: IntakeOutcome;
  deliveryId: string | null;
  orderId: string;
}

const EXCERPT_LIMIT = 2_000;

/**
 * Whether an order is forwarded now, waits for payment (the "paid" trigger) or for keys, or is
 * recorded as skipped (with why).
 */
export function decideDelivery(
  settings: StoredSettings,
  summary: OrderSummary,
  options: { awaitingPayment?: boolean; skipReason?: DeliveryReason | null } = {},
): { status: DeliveryStatus; reasonCode: DeliveryReason | null } {
  if (settings.uninstalledAt) return { status: "skipped", reasonCode: "uninstalled_on_arrival" };
  if (!settings.forwardingEnabled) return { status: "skipped", reasonCode: "forwarding_off_on_arrival" };
  if (summary.test && !settings.forwardTestOrders) return { status: "skipped", reasonCode: "test_order" };
  if (summary.zeroValue) return { status: "skipped", reasonCode: "zero_value" };
  if (options.skipReason) return { status: "skipped", reasonCode: options.skipReason };
  if (options.awaitingPayment) return { status: "waiting_for_payment", reasonCode: null };
  if (!hasKeys(settings)) return { status: "waiting_for_keys", reasonCode: null };
  return { status: "pending", reasonCode: null };
}

/** The order id of a payload that could not be mapped, when one can be read at all. */
export function orderIdOf(payload: unknown): string | null {
  if (!payload || typeof payload !== "object") return null;
  const record = payload as Record<string, unknown>;
  const gid = typeof record.admin_graphql_api_id === "string" ? /\/Order\/(\d+)$/.exec(record.admin_graphql_api_id) : null;
  if (gid) return gid[1];
  if (typeof record.id === "number" && Number.isSafeInteger(record.id) && record.id > 0) return String(record.id);
  if (typeof record.id === "string" && /^\d+$/.test(record.id)) return record.id;
  return null;
}

/**
 * The settings of the shops whose orders arrive together, read in one query per turn of the
 * event loop instead of one per order. Nothing is cached: every group reads afresh, so a saved
 * change applies to the next order as before.
 */
const settingsOfArrivingOrders = new DataLoader<string, StoredSettings>(getManyShopSettings, {
  cache: false,
  batchScheduleFn: (callback) => setImmediate(callback),
  maxBatchSize: 200,
});

/** Orders from webhooks arriving together are committed together (group commit). */
const outbox = createOutboxInserter(prisma, {
  onGroupCommitted: (size) => logger.debug("outbox group committed", { size }),
  onGroupFailed: (size, error) =>
    logger.warn("outbox group failed", { size, error: error instanceof Error ? error.message : String(error) }),
});

/**
 * Records a verified orders/create webhook in the outbox. Never calls Refersion: the
 * delivery worker does that. Idempotent per (shop, order): a second delivery of the same order,
 * under the same or a new webhook id, finds the row and changes nothing.
 * With the shop's "paid" trigger, an order not yet paid is kept as waiting_for_payment until its
 * orders/paid arrives (app/lifecycle/paid-trigger.server.ts); orders/paid itself is never kept
 * waiting.
 */
export async function acceptOrderWebhook(input: {
  shop: string;
  payload: unknown;
  webhookId: string | null;
  source?: OrderSource;
}): Promise<IntakeResult> {
  const { shop, payload, webhookId } = input;
  const source = input.source ?? "orders/create";
  const settings = await settingsOfArrivingOrders.load(shop);
  const awaitingPayment = settings.forwardTrigger === "paid" && source !== "orders/paid" && !hasBeenPaid(payload);
  // A past order already cancelled or refunded in full is recorded, but not sent.
  const skipReason = source === "backfill" ? pastOrderSkipReason(payload) : null;
  const mapped = mapOrderToConversion(payload, mappingOptionsFor(settings));

  let data: Prisma.DeliveryUncheckedCreateInput;
  let outcome: IntakeOutcome;
  if (!mapped.ok) {
    const orderId = orderIdOf(payload) ?? `unreadable-${webhookId ?? crypto.randomUUID()}`;
    outcome = "unmappable";
    data = {
      shop,
      orderId,
      status: "failed",
      reasonCode: "unmappable",
      reasonDetail: mapped.error.message,
      sourceExcerpt: JSON.stringify(payload)?.slice(0, EXCERPT_LIMIT) ?? String(payload),
      webhookId,
    };
  } else {
    const { conversion, summary } = mapped;
    const decision = decideDelivery(settings, summary, { awaitingPayment, skipReason });
    outcome =
      decision.status === "pending"
        ? "queued"
        : decision.status === "waiting_for_keys" || decision.status === "waiting_for_payment"
          ? decision.status
          : "skipped";
    data = {
      shop,
      orderId: summary.orderId,
      orderName: summary.name,
      totalAmount: summary.total,
      currency: summary.currency,
      customerId: summary.customerId,
      status: decision.status,
      reasonCode: decision.reasonCode,
      requestBody: JSON.stringify(conversion),
      orderPayload: JSON.stringify(payload),
      webhookId,
    };
  }

  const log = logger.child({ shop, orderId: data.orderId, webhookId });
  const row = await outbox.insert(data);
  if (!row) {
    log.info("duplicate order webhook ignored");
    return { outcome: "duplicate", deliveryId: null, orderId: data.orderId };
  }
  log.info("order recorded", { deliveryId: row.id, outcome, status: data.status });
  if (data.status === "waiting_for_keys" && hasKeys(await settingsOfArrivingOrders.load(shop))) {
    // Keys were saved between this order's settings read and its insert: the save released the
    // orders waiting then, not this one.
    await releaseOrdersWaitingForKeys(shop);
  }
  return { outcome, deliveryId: row.id, orderId: data.orderId };
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
    const mapped = row.orderPayload ? mapOrderToConversion(JSON.parse(row.orderPayload), mappingOptionsFor(settings)) : null;
    const update: Prisma.DeliveryUpdateManyMutationInput = !mapped
      ? { status: "failed", reasonCode: "stored_order_unavailable" }
      : !mapped.ok
        ? { status: "failed", reasonCode: "unmappable", reasonDetail: mapped.error.message }
        : {
            ...decideDelivery(settings, mapped.summary),
            reasonDetail: null,
            requestBody: JSON.stringify(mapped.conversion),
            nextAttemptAt: now,
          };
    // Conditional on the status, so two concurrent saves release each order once.
    const { count } = await prisma.delivery.updateMany({ where: { id: row.id, shop, status: "waiting_for_keys" }, data: update });
    if (count === 1 && update.status === "pending") released += 1;
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
 * merchant to save the keys. The worker process runs it at start and hourly.
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

/**
 * Records a signed webhook whose body could not be read at all (or, for a reversal, names no
 * order or refund), so the merchant sees it in the delivery log with the reason, instead of
 * Shopify retrying the same bytes for hours. `kind` says what it would have been: an order
 * (orders/create, orders/paid), a cancellation or a refund.
 */
export async function recordUnreadableWebhook(input: {
  shop: string;
  webhookId: string | null;
  rawExcerpt: string;
  /** Why it could not be read (a detail shown with the code unreadable_webhook). */
  reason: string;
  kind?: DeliveryKind;
}): Promise<IntakeResult> {
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
