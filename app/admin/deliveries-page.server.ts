import { DELIVERY_STATUSES, isDeliveryStatus, type DeliveryStatus } from "../outbox/delivery-status";
import { failedDeliveryIds, getDelivery, listDeliveries, shopCountsByStatus } from "../outbox/delivery-log.server";
import { retryDelivery } from "../orders/manual-retry.server";
import { isCancelledOrderSkip } from "../orders/requeue.server";
import type { DeliveryReason } from "@prisma/client";
import type { DeliveryLogSearch } from "./delivery-log-query.server";
import { OrderJsonSchema } from "../refersion/order-json";
import { DERIVED_CART_ID_PREFIX } from "../refersion/mapping";
import { describeRetryRefusal, explainDelivery, RETRY_REFUSALS, STATUS_LABELS, type DeliveryExplanation, type ExplainInput } from "./delivery-reasons";
import { RANGE_DAYS, RANGE_LABELS, type DeliveryLogRange } from "./delivery-log-ranges";
import { AFFILIATE_FILTER_CHOICES, affiliateCellsFor, affiliateFilteredLog, type AffiliateCellView, type AffiliateFilter } from "./conversions-view.server";
import { attributionLabelOf } from "./attribution-labels";
import { addDays, dayKeyOf, DEFAULT_TIME_ZONE, formatDateTime, formatMoney, startOfDay } from "./format";
import { countOf } from "./plural";
import { orderAdminUrl } from "./shopify-admin-links";

export const DELIVERY_LOG_PAGE_SIZE = 25;

export interface DeliveryRowView {
  id: string;
  order: string;
  total: string | null;
  status: DeliveryStatus;
  statusLabel: string;
  attempts: number;
  lastStatusCode: number | null;
  /** Why it is where it is, in plain words (explainDelivery); null for a delivered row. */
  reason: string | null;
  /** How the order is credited ("Checkout pixel", "Waiting for click data"...); null for reversals. */
  attribution: string | null;
  /** What Refersion's conversion webhooks reported: credited to whom, denied, ...; null for reversals. */
  affiliate: AffiliateCellView | null;
  receivedAt: string;
}

export interface DeliveryLogView {
  /** All, then each status that has orders under the other filters (and the one selected). */
  tabs: { id: DeliveryStatus | "all"; label: string; count: number }[];
  status: DeliveryStatus | null;
  /** The order number searched for, as typed (without its "#"). */
  query: string;
  range: DeliveryLogRange | null;
  ranges: { value: DeliveryLogRange; label: string }[];
  /** Failed rows of the shop, whatever the filters: what "Retry all failed" would queue. */
  failedCount: number;
  /** The Affiliate filter (credited, not credited, denied), from conversion webhooks. */
  affiliate: AffiliateFilter | null;
  affiliateFilters: { value: AffiliateFilter; label: string }[];
  rows: DeliveryRowView[];
  total: number;
  page: number;
  pageCount: number;
}

function statusOf(value: string): DeliveryStatus {
  // Rows are written by this app with known statuses; an unknown one is shown as pending work.
  return isDeliveryStatus(value) ? value : "pending";
}

/** A row of the log or the detail page explained (its reversal waits while the row it runs after is not delivered). */
function explanationOf(
  row: Omit<ExplainInput, "status" | "waitsForPredecessor" | "timeZone"> & { runsAfter: { status: string } | null },
  status: DeliveryStatus,
  timeZone: string,
): DeliveryExplanation {
  return explainDelivery({
    status,
    kind: row.kind,
    reasonCode: row.reasonCode,
    reasonDetail: row.reasonDetail,
    lastStatusCode: row.lastStatusCode,
    firstAttemptAt: row.firstAttemptAt,
    nextAttemptAt: row.nextAttemptAt,
    waitsForPredecessor: row.runsAfter !== null && row.runsAfter.status !== "delivered",
    timeZone,
  });
}

function orderLabel(row: { orderName: string | null; orderId: string; kind: string }): string {
  const name = row.orderName ?? `Order ${row.orderId}`;
  return row.kind === "order" ? name : `${name} (${row.kind})`;
}

/** The start of the shop's day `days - 1` days before today: "Last 7 days" is today and the 6 before. */
function rangeStart(range: DeliveryLogRange, timeZone: string, now: Date): Date {
  return startOfDay(addDays(dayKeyOf(now, timeZone), 1 - RANGE_DAYS[range]), timeZone);
}

export async function loadDeliveryLog(
  shop: string,
  search: DeliveryLogSearch,
  timeZone: string = DEFAULT_TIME_ZONE,
  now = new Date(),
): Promise<DeliveryLogView> {
  const status = search.status ?? null;
  const range = search.range ?? null;
  const affiliate = search.affiliate ?? null;
  const page = affiliate
    ? await affiliateFilteredLog(shop, affiliate, search.page, DELIVERY_LOG_PAGE_SIZE)
    : await listDeliveries(shop, {
        status,
        page: search.page,
        pageSize: DELIVERY_LOG_PAGE_SIZE,
        orderNumber: search.q || undefined,
        since: range ? rangeStart(range, timeZone, now) : undefined,
      });
  const affiliateCells = await affiliateCellsFor(shop, page.rows, now);
  const all = Object.values(page.countsByStatus).reduce((sum, count) => sum + count, 0);
  const unfiltered = !search.q && !range;
  return {
    tabs: [
      { id: "all" as const, label: "All", count: all },
      ...DELIVERY_STATUSES.map((id) => ({ id, label: STATUS_LABELS[id], count: page.countsByStatus[id] })).filter(
        (tab) => tab.count > 0 || tab.id === status,
      ),
    ],
    status,
    query: search.q ?? "",
    range,
    ranges: (Object.keys(RANGE_LABELS) as DeliveryLogRange[]).map((value) => ({ value, label: RANGE_LABELS[value] })),
    failedCount: unfiltered ? page.countsByStatus.failed : (await shopCountsByStatus(shop)).failed,
    affiliate,
    affiliateFilters: AFFILIATE_FILTER_CHOICES,
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
        reason: rowStatus === "delivered" ? null : explanationOf(row, rowStatus, timeZone).reason,
        attribution: attributionLabelOf(row),
        affiliate: affiliateCells[row.id] ?? null,
        receivedAt: formatDateTime(row.createdAt, timeZone)!,
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

/** The order as Refersion gets it, in words: items, totals, customer, and the click data it carries. */
export interface OrderSummaryView {
  items: { name: string; sku: string; quantity: number; price: string }[];
  /** "2 items" */
  itemCount: string;
  totals: { label: string; amount: string }[];
  /** Name and email when sent; a sentence saying they were not sent otherwise. */
  customer: string;
  /** Whether the order carries what Refersion matches an affiliate's click with. */
  clickData: { present: boolean; text: string };
}

export interface DeliveryDetailView {
  id: string;
  order: string;
  orderId: string;
  total: string | null;
  status: DeliveryStatus;
  statusLabel: string;
  reasonCode: DeliveryReason | null;
  /** What happened, whether the app tries again and until when, what to do; raw words apart. */
  explanation: DeliveryExplanation;
  /** The readable summary of what is sent; null when the JSON cannot be read as an order. */
  summary: OrderSummaryView | null;
  /** The order's page in Shopify's admin (opened in the top window). */
  shopifyOrderUrl: string;
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

/** The readable summary of an order's JSON (app/refersion/order-json.ts); null for reversals and what does not parse. */
function summaryOf(requestBody: string | null, kind: string): OrderSummaryView | null {
  if (!requestBody || kind !== "order") return null;
  let parsed;
  try {
    parsed = OrderJsonSchema.safeParse(JSON.parse(requestBody));
  } catch {
    return null;
  }
  if (!parsed.success) return null;
  const order = parsed.data;
  const money = (value: number) => formatMoney(value, order.currency_code)!;
  const merchandise = order.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  const quantity = order.items.reduce((sum, item) => sum + item.quantity, 0);
  const name = [order.customer?.first_name, order.customer?.last_name].filter(Boolean).join(" ");
  const customer = order.customer
    ? [name, order.customer.email].filter(Boolean).join(", ") || "Sent without a name or email"
    : "Not sent (sending customer details is off in Settings, or the order has none)";
  const clickData =
    order.auto_credit_affiliate_id !== undefined
      ? { present: true, text: `Affiliate ${order.auto_credit_affiliate_id}, recorded by the storefront, is credited directly.` }
      : order.cart_id.startsWith(DERIVED_CART_ID_PREFIX)
        ? { present: false, text: "None: the order came without a storefront cart, so Refersion cannot match it with an affiliate's click." }
        : { present: true, text: "The storefront's cart id, which Refersion matches with an affiliate's click when the buyer came through one." };
  return {
    items: order.items.map((item) => ({ name: item.name ?? "(no name)", sku: item.sku || "—", quantity: item.quantity, price: money(item.price) })),
    itemCount: countOf(quantity, "item"),
    totals: [
      { label: "Items", amount: money(merchandise) },
      ...(order.discount ? [{ label: order.discount_code ? `Discount (${order.discount_code})` : "Discount", amount: `−${money(order.discount)}` }] : []),
      ...(order.shipping !== undefined ? [{ label: "Shipping", amount: money(order.shipping) }] : []),
      ...(order.tax !== undefined ? [{ label: "Tax", amount: money(order.tax) }] : []),
    ],
    customer,
    clickData,
  };
}

/** One delivery of the shop with every attempt, or null when the shop has none with that id. */
export async function loadDeliveryDetail(shop: string, id: string, timeZone: string = DEFAULT_TIME_ZONE): Promise<DeliveryDetailView | null> {
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
    explanation: explanationOf(row, status, timeZone),
    summary: summaryOf(row.requestBody, row.kind),
    shopifyOrderUrl: orderAdminUrl(shop, row.orderId),
    attribution: attributionLabelOf(row),
    receivedAt: formatDateTime(row.createdAt, timeZone)!,
    deliveredAt: formatDateTime(row.deliveredAt, timeZone),
    nextAttemptAt: status === "pending" || status === "retrying" ? formatDateTime(row.nextAttemptAt, timeZone) : null,
    attempts: row.deliveryAttempts.map((attempt) => ({
      id: attempt.id,
      startedAt: formatDateTime(attempt.startedAt, timeZone)!,
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

/** How many failed rows one "Retry all failed" queues at most; a second click takes the next ones. */
export const RETRY_ALL_LIMIT = 500;

export interface RetryAllResult {
  tone: "success" | "info" | "warning";
  message: string;
  queued: number;
}

/**
 * "Retry all failed": each failed row of the shop is retried as its own Retry would (conditional
 * on its status), so clicking twice, or two admins at once, queues each order once. Rows whose
 * retry is refused (a cancelled order, a skip that still holds) are counted and left as they are.
 */
export async function retryAllFailedFromAdmin(shop: string): Promise<RetryAllResult> {
  const ids = await failedDeliveryIds(shop, RETRY_ALL_LIMIT);
  if (ids.length === 0) return { tone: "info", message: "No failed order to retry: every failed order is already queued again or was resolved.", queued: 0 };
  let queued = 0;
  for (const id of ids) {
    const result = await retryDelivery(shop, { deliveryId: id });
    if (result.ok) queued += 1;
  }
  const refused = ids.length - queued;
  const message =
    `${countOf(queued, "failed order")} queued for another attempt.` +
    (refused > 0 ? ` ${countOf(refused, "order")} could not be queued again; open ${refused === 1 ? "it" : "them"} to see why.` : "");
  return { tone: queued > 0 ? "success" : "warning", message, queued };
}
