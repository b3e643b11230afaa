import { DELIVERY_STATUSES, isDeliveryStatus, type DeliveryStatus } from "../outbox/delivery-status";
import { getDelivery, listDeliveries } from "../outbox/delivery-log.server";
import { retryDelivery } from "../orders/manual-retry.server";
import { isCancelledOrderSkip } from "../orders/requeue.server";
import type { DeliveryReason } from "@prisma/client";
import type { DeliveryLogSearch } from "./delivery-log-query.server";
import { describeReason, describeRetryRefusal, RETRY_REFUSALS, STATUS_LABELS, WAITING_FOR_PREDECESSOR } from "./delivery-reasons";
import { attributionLabelOf } from "./attribution-labels";
import { formatDateTime, formatMoney } from "./format";

export const DELIVERY_LOG_PAGE_SIZE = 25;

export interface DeliveryRowView {
  id: string;
  order: string;
  total: string | null;
  status: DeliveryStatus;
  statusLabel: string;
  attempts: number;
  lastStatusCode: number | null;
  /** How the order is credited ("Checkout pixel", "Waiting for click data"...); null for reversals. */
  attribution: string | null;
  receivedAt: string;
}

export interface DeliveryLogView {
  tabs: { id: DeliveryStatus | "all"; label: string; count: number }[];
  status: DeliveryStatus | null;
  rows: DeliveryRowView[];
  total: number;
  page: number;
  pageCount: number;
}

function statusOf(value: string): DeliveryStatus {
  // Rows are written by this app with known statuses; an unknown one is shown as pending work.
  return isDeliveryStatus(value) ? value : "pending";
}

function orderLabel(row: { orderName: string | null; orderId: string; kind: string }): string {
  const name = row.orderName ?? `Order ${row.orderId}`;
  return row.kind === "order" ? name : `${name} (${row.kind})`;
}

export async function loadDeliveryLog(shop: string, search: DeliveryLogSearch): Promise<DeliveryLogView> {
  const status = search.status ?? null;
  const page = await listDeliveries(shop, { status, page: search.page, pageSize: DELIVERY_LOG_PAGE_SIZE });
  const all = Object.values(page.countsByStatus).reduce((sum, count) => sum + count, 0);
  return {
    tabs: [
      { id: "all", label: "All", count: all },
      ...DELIVERY_STATUSES.map((id) => ({ id, label: STATUS_LABELS[id], count: page.countsByStatus[id] })),
    ],
    status,
    rows: page.rows.map((row) => {
      const rowStatus = statusOf(row.status);
      return {
        id: row.id,
        order: orderLabel(row),
        total: formatMoney(row.totalAmount, row.currency),
        status: rowStatus,
        statusLabel: STATUS_LABELS[rowStatus],
        attempts: row.attempts,
        lastStatusCode: row.lastStatusCode,
        attribution: attributionLabelOf(row),
        receivedAt: formatDateTime(row.createdAt)!,
      };
    }),
    total: page.total,
    page: page.page,
    pageCount: page.pageCount,
  };
}

export interface DeliveryAttemptView {
  id: string;
  startedAt: string;
  statusCode: number | null;
  outcome: string;
  outcomeLabel: string;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

export interface DeliveryDetailView {
  id: string;
  order: string;
  orderId: string;
  total: string | null;
  status: DeliveryStatus;
  statusLabel: string;
  reasonCode: DeliveryReason | null;
  /** The reason as a sentence (app/admin/delivery-reasons.ts). */
  reason: string | null;
  /** How the order is credited at Refersion; null for reversals. */
  attribution: string | null;
  receivedAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  attempts: DeliveryAttemptView[];
  /** The exact JSON sent (or to be sent) to Refersion, pretty-printed. */
  requestJson: string | null;
  /** For orders that could not be mapped: the start of what Shopify sent. */
  sourceExcerpt: string | null;
  /**
   * "Retry" for failed orders and reversals and for skipped orders (judged again with the settings
   * of now), "Resend" for delivered orders, null when neither applies (a cancelled order).
   */
  retryAction: "Retry" | "Resend" | null;
}

const OUTCOME_LABELS: Record<string, string> = {
  delivered: "Delivered",
  retry: "Failed, will retry",
  permanent: "Failed",
};

function prettyJson(text: string | null): string | null {
  if (text === null) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function retryActionFor(row: { status: DeliveryStatus; kind: string; hasBody: boolean; reasonCode: DeliveryReason | null }): DeliveryDetailView["retryAction"] {
  if (!row.hasBody) return null;
  // A reversal is only retried after a failure; it is never resent.
  if (row.kind !== "order") return row.status === "failed" ? "Retry" : null;
  if (row.status === "delivered") return "Resend";
  if (row.status === "failed") return "Retry";
  // A skipped order may be sendable now (forwarding switched back on, test orders now sent);
  // Retry judges it again and says why when it stays skipped. A cancelled one never is.
  if (row.status === "skipped" && !isCancelledOrderSkip(row.reasonCode)) return "Retry";
  return null;
}

/** One delivery of the shop with every attempt, or null when the shop has none with that id. */
export async function loadDeliveryDetail(shop: string, id: string): Promise<DeliveryDetailView | null> {
  const row = await getDelivery(shop, id);
  if (!row) return null;
  const status = statusOf(row.status);
  return {
    id: row.id,
    order: orderLabel(row),
    orderId: row.orderId,
    total: formatMoney(row.totalAmount, row.currency),
    status,
    statusLabel: STATUS_LABELS[status],
    reasonCode: row.reasonCode,
    reason:
      describeReason(row.reasonCode, row.reasonDetail) ??
      ((status === "pending" || status === "retrying") && row.runsAfter && row.runsAfter.status !== "delivered" ? WAITING_FOR_PREDECESSOR : null),
    attribution: attributionLabelOf(row),
    receivedAt: formatDateTime(row.createdAt)!,
    deliveredAt: formatDateTime(row.deliveredAt),
    nextAttemptAt: status === "pending" || status === "retrying" ? formatDateTime(row.nextAttemptAt) : null,
    attempts: row.deliveryAttempts.map((attempt) => ({
      id: attempt.id,
      startedAt: formatDateTime(attempt.startedAt)!,
      statusCode: attempt.statusCode,
      outcome: attempt.outcome,
      outcomeLabel: OUTCOME_LABELS[attempt.outcome] ?? attempt.outcome,
      durationMs: attempt.durationMs,
      error: attempt.error,
      responseExcerpt: attempt.responseExcerpt,
    })),
    requestJson: prettyJson(row.requestBody),
    sourceExcerpt: row.requestBody === null ? row.sourceExcerpt : null,
    retryAction: retryActionFor({ status, kind: row.kind, hasBody: row.requestBody !== null, reasonCode: row.reasonCode }),
  };
}

export type RetryFromAdminResult =
  | { found: false }
  | { found: true; queued: boolean; tone: "success" | "info" | "warning"; message: string };

/**
 * The merchant's Retry / Resend. Queuing is conditional on the status the row had, so a second
 * click (or a second admin) is told it is already queued instead of sending twice.
 */
export async function retryFromAdmin(shop: string, id: string): Promise<RetryFromAdminResult> {
  const before = await getDelivery(shop, id);
  if (!before) return { found: false };
  const result = await retryDelivery(shop, { deliveryId: id });
  if (result.ok) {
    const message =
      before.status === "delivered"
        ? "Queued to be sent to Refersion again."
        : "Queued for another attempt. The result will show here in a moment.";
    return { found: true, queued: true, tone: "success", message };
  }
  switch (result.reason) {
    case "not_found":
      return { found: false };
    default:
      return { found: true, queued: false, tone: RETRY_REFUSALS[result.reason].tone, message: describeRetryRefusal(result) };
  }
}
