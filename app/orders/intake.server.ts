import crypto from "node:crypto";
import type { Prisma } from "@prisma/client";
import DataLoader from "dataloader";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { removePersonalDataFromOrder } from "../privacy/personal-data";
import { createOutboxInserter } from "../outbox/inserts.server";
import type { DeliveryStatus } from "../outbox/delivery-status";
import { getManyShopSettings, hasKeys, type StoredSettings } from "../settings/shop-settings.server";
import { clickHintsFor } from "../attribution/click-hints.server";
import { applyClickHint, warnIfNoReportMatches } from "./click-report.server";
import { orderIdOf } from "./order-id";
import { planOrder, type OrderTrigger } from "./plan";
import { releaseOrdersWaitingForKeys } from "./release.server";
import { replaceUnmappableOrder } from "./requeue.server";
import { minimiseOrder, storedOrderJson } from "./stored-order";

export type IntakeOutcome = "queued" | "waiting_for_keys" | "waiting_for_payment" | "skipped" | "unmappable" | "duplicate";

/**
 * What brought the order in: its orders/create webhook, its orders/paid webhook (the paid
 * trigger, or a backup for a missed orders/create), or "resend past orders" (no webhook).
 */
export type OrderSource = Extract<OrderTrigger, "orders/create" | "orders/paid" | "backfill">;

export interface IntakeResult {
  outcome: IntakeOutcome;
  deliveryId: string | null;
  orderId: string;
}

const EXCERPT_LIMIT = 2_000;

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
 * Records an order in the outbox as planned (app/orders/plan.ts). Never calls Refersion: the
 * delivery worker does that. Idempotent per (shop, order): a second delivery of the same order,
 * under the same or a new webhook id, finds the row and changes nothing.
 * With the shop's "paid" trigger, an order not yet paid is kept as waiting_for_payment until its
 * orders/paid arrives (app/orders/release.server.ts); orders/paid itself is never kept waiting.
 */
export async function acceptOrderWebhook(input: {
  shop: string;
  payload: unknown;
  webhookId: string | null;
  source?: OrderSource;
}): Promise<IntakeResult> {
  const { shop, payload, webhookId } = input;
  const settings = await settingsOfArrivingOrders.load(shop);
  // The checkout pixel's report, when it came first (app/orders/click-report.server.ts).
  const hints = await clickHintsFor(shop, orderIdOf(payload));
  const plan = planOrder(payload, settings, input.source ?? "orders/create", { hints });

  let data: Prisma.DeliveryUncheckedCreateInput;
  let outcome: IntakeOutcome;
  if (!plan.mapped) {
    outcome = "unmappable";
    data = {
      shop,
      orderId: plan.orderId ?? `unreadable-${webhookId ?? crypto.randomUUID()}`,
      status: plan.status,
      reasonCode: plan.reasonCode,
      reasonDetail: plan.reasonDetail,
      // What the mapping could not read, for diagnosis: the fields it reads, without the buyer
      // (sealed at rest anyway, as the excerpt of a body that could not be read is).
      sourceExcerpt: JSON.stringify(removePersonalDataFromOrder(minimiseOrder(payload)))?.slice(0, EXCERPT_LIMIT) ?? String(payload),
      // Kept (as stored orders are: what the mapping reads) when the order is known, so that the
      // merchant's Retry can map it again once the cause is gone (a setting changed, the app updated).
      orderPayload: plan.orderId ? storedOrderJson(payload) : null,
      webhookId,
    };
  } else {
    outcome = outcomeOf(plan.status);
    data = {
      shop,
      orderId: plan.orderId,
      status: plan.status,
      reasonCode: plan.reasonCode,
      ...plan.columns,
      // An order waiting for the pixel's click data is due when the wait ends (or when the report comes).
      ...(plan.clickWaitMs > 0 ? { nextAttemptAt: new Date(Date.now() + plan.clickWaitMs) } : {}),
      orderPayload: storedOrderJson(payload),
      webhookId,
    };
  }

  const log = logger.child({ shop, orderId: data.orderId, webhookId });
  const row = await outbox.insert(data);
  if (!row) {
    const source = input.source ?? "orders/create";
    if (plan.mapped && source !== "backfill") {
      // The order's first payload could not be mapped; this one can, and replaces it. (Resend
      // past orders replaces it too, through requeueOrder.)
      const replaced = await replaceUnmappableOrder(shop, plan.orderId, payload, source);
      if (replaced.requeued) return { outcome: outcomeOf(replaced.status), deliveryId: replaced.deliveryId, orderId: plan.orderId };
    }
    log.info("duplicate order webhook ignored");
    return { outcome: "duplicate", deliveryId: null, orderId: data.orderId };
  }
  log.info("order recorded", { deliveryId: row.id, outcome, status: data.status });
  // A report that arrived between the hint's read above and this insert found no row: apply it now
  // (which warns, as below, when the order's reports all named another checkout).
  if (data.reasonCode === "awaiting_click_data") await applyClickHint(shop, data.orderId);
  else warnIfNoReportMatches(shop, data.orderId, payload, hints);
  if (data.status === "waiting_for_keys" && hasKeys(await settingsOfArrivingOrders.load(shop))) {
    // Keys were saved between this order's settings read and its insert: the save released the
    // orders waiting then, not this one.
    await releaseOrdersWaitingForKeys(shop);
  }
  return { outcome, deliveryId: row.id, orderId: data.orderId };
}

function outcomeOf(status: DeliveryStatus): IntakeOutcome {
  if (status === "pending") return "queued";
  if (status === "waiting_for_keys" || status === "waiting_for_payment") return status;
  return "skipped";
}
