import type { ConversionStatus } from "@prisma/client";
import {
  AFFILIATE_FILTERS,
  deliveryRowsByIds,
  forwardedOrdersSince,
  outcomesOfOrders,
  orderIdsMatching,
  type AffiliateFilter,
} from "../conversions/order-outcomes.server";
import { shopCountsByStatus } from "../outbox/delivery-log.server";
import type { ConversionFacts, OrderOutcome } from "../conversions/outcome";
import { ensureConversionReceiver, findConversionReceiver, receiverUrl, saveConversionSettings } from "../conversions/receiver.server";
import type { ConversionSettingsForm } from "../conversions/settings-form";
import { ORDER_KIND } from "../outbox/delivery-kind";
import { formatDateTime, formatMoney } from "./format";

/**
 * The admin's views of Refersion's conversion webhooks: the settings section, the delivery log's
 * Affiliate column and filter, a delivery's conversion, and the home page's attribution figures.
 * Codes in, sentences out: every sentence about an outcome is here.
 */

export type OutcomeTone = "success" | "attention" | "critical" | "info" | "subdued";

export interface AffiliateCellView {
  kind: OrderOutcome["kind"];
  /** The badge: "Approved", "Pending", "Denied", "No affiliate click", "Waiting for Refersion", ... */
  label: string;
  tone: OutcomeTone;
  /** "Ada Sandbox (ada1)" when an affiliate was credited or denied. */
  affiliate: string | null;
  /** "$10.00" commission, when Refersion reported one. */
  commission: string | null;
}

const STATUS_LABELS: Record<ConversionStatus, string> = { pending: "Pending", approved: "Approved", denied: "Denied" };

const OUTCOME_LABELS: Record<Exclude<OrderOutcome["kind"], "credited" | "denied">, { label: string; tone: OutcomeTone }> = {
  no_affiliate_click: { label: "No affiliate click", tone: "subdued" },
  waiting: { label: "Waiting for Refersion", tone: "info" },
  before_connection: { label: "Before conversion webhooks", tone: "subdued" },
  not_connected: { label: "Not connected", tone: "subdued" },
  not_delivered: { label: "Not sent", tone: "subdued" },
};

/** What each outcome means, for the delivery's page. */
const OUTCOME_SENTENCES: Record<OrderOutcome["kind"], string> = {
  credited: "Refersion credited an affiliate with this order.",
  denied: "Refersion denied the commission for this order.",
  no_affiliate_click:
    "Refersion reported no conversion within the grace period: no affiliate click or coupon matched this order, so no affiliate was credited.",
  waiting: "Refersion has not reported a conversion yet. It usually does within minutes when an affiliate click matched.",
  before_connection: "This order reached Refersion before conversion webhooks were connected, so the app cannot tell whether an affiliate was credited.",
  not_connected: "Connect Refersion's conversion webhooks in Settings to see whether an affiliate was credited.",
  not_delivered: "This order has not reached Refersion, so no affiliate can have been credited for it yet.",
};

export const AFFILIATE_FILTER_LABELS: Record<AffiliateFilter, string> = {
  credited: "Credited",
  // Exactly the orders whose cell says "No affiliate click" (not those still waiting, or sent before connecting).
  not_credited: "Not credited (no affiliate click)",
  denied: "Denied",
};

export { AFFILIATE_FILTERS, type AffiliateFilter };

function affiliateOf(conversion: ConversionFacts): string | null {
  const name = conversion.affiliateName ?? (conversion.affiliateId ? `Affiliate ${conversion.affiliateId}` : null);
  if (!name) return conversion.affiliateCode;
  return conversion.affiliateCode ? `${name} (${conversion.affiliateCode})` : name;
}

export function affiliateCellOf(outcome: OrderOutcome): AffiliateCellView {
  if (outcome.kind === "credited" || outcome.kind === "denied") {
    const { conversion } = outcome;
    return {
      kind: outcome.kind,
      label: STATUS_LABELS[conversion.status],
      tone: conversion.status === "approved" ? "success" : conversion.status === "pending" ? "attention" : "critical",
      affiliate: affiliateOf(conversion),
      commission: formatMoney(conversion.commission, conversion.currency),
    };
  }
  return { kind: outcome.kind, ...OUTCOME_LABELS[outcome.kind], affiliate: null, commission: null };
}

/** The Affiliate cell of each row that is an order (reversal rows have none), by row id. */
export async function affiliateCellsFor(
  shop: string,
  rows: readonly { id: string; orderId: string; kind: string }[],
  now = new Date(),
): Promise<Record<string, AffiliateCellView>> {
  const orders = rows.filter((row) => row.kind === ORDER_KIND);
  const outcomes = await outcomesOfOrders(shop, orders.map((row) => row.orderId), now);
  return Object.fromEntries(orders.map((row) => [row.id, affiliateCellOf(outcomes.get(row.orderId)!)]));
}

/** The delivery log's Affiliate filter from a URL parameter; anything else is no filter. */
export function affiliateFilterOf(value: string | null): AffiliateFilter | null {
  return (AFFILIATE_FILTERS as readonly string[]).includes(value ?? "") ? (value as AffiliateFilter) : null;
}

/** One page of the ids of orders matching the filter (newest first), and how many match. */
export function affiliateFilteredPage(shop: string, filter: AffiliateFilter, page: number, pageSize: number, now = new Date()) {
  return orderIdsMatching(shop, filter, { skip: (Math.max(1, page) - 1) * pageSize, take: pageSize }, now);
}

export interface ConversionDetailView {
  outcome: AffiliateCellView;
  /** What the outcome means. */
  explanation: string;
  conversionId: string | null;
  status: string | null;
  deniedReason: string | null;
  total: string | null;
  test: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  receivedAt: string | null;
  /** Until when the app waits for Refersion (waiting only). */
  waitingUntil: string | null;
}

/** The conversion of a delivery's order, for its page; null for a reversal row or an id of no row of the shop. */
export async function loadConversionDetail(
  shop: string,
  deliveryId: string,
  options: { now?: Date; timeZone?: string } = {},
): Promise<ConversionDetailView | null> {
  const [row] = await deliveryRowsByIds(shop, [deliveryId]);
  if (!row || row.kind !== ORDER_KIND) return null;
  const outcome = (await outcomesOfOrders(shop, [row.orderId], options.now ?? new Date())).get(row.orderId)!;
  const conversion = outcome.kind === "credited" || outcome.kind === "denied" ? outcome.conversion : null;
  const time = (date: Date | null | undefined) => formatDateTime(date, options.timeZone);
  return {
    outcome: affiliateCellOf(outcome),
    explanation: OUTCOME_SENTENCES[outcome.kind],
    conversionId: conversion?.conversionId ?? null,
    status: conversion ? STATUS_LABELS[conversion.status] : null,
    deniedReason: conversion?.deniedReason ?? null,
    total: conversion ? formatMoney(conversion.total, conversion.currency) : null,
    test: conversion?.test ?? false,
    createdAt: time(conversion?.refersionCreatedAt),
    updatedAt: time(conversion?.refersionUpdatedAt),
    receivedAt: time(conversion?.receivedAt),
    waitingUntil: outcome.kind === "waiting" ? time(outcome.until) : null,
  };
}

export interface ConversionWebhooksView {
  /** The URL to paste into Refersion (Account > Settings > Webhooks). */
  url: string;
  secretSet: boolean;
  secretLast4: string | null;
  graceHours: number;
  lastReceived: string | null;
  connected: boolean;
}

/** The settings section; makes the shop's receiver (and so its URL) on first view. */
export async function loadConversionWebhooksView(shop: string, appUrl: string, timeZone?: string): Promise<ConversionWebhooksView> {
  const receiver = await ensureConversionReceiver(shop);
  return {
    url: receiverUrl(appUrl, receiver.token),
    secretSet: Boolean(receiver.secretCiphertext),
    secretLast4: receiver.secretLast4,
    graceHours: receiver.graceHours,
    lastReceived: formatDateTime(receiver.lastReceivedAt, timeZone),
    connected: Boolean(receiver.secretCiphertext),
  };
}

export async function saveConversionWebhooksFromAdmin(shop: string, form: ConversionSettingsForm): Promise<void> {
  await saveConversionSettings(shop, form);
}

export interface AttributionPeriodView {
  days: number;
  forwarded: number;
  credited: number;
  denied: number;
  waiting: number;
  noClick: number;
  /** Delivered before conversion webhooks were connected, with no conversion since: nobody can tell. */
  beforeConnection: number;
  /** Orders credited / orders forwarded the app can judge (not beforeConnection), "42%"; null when there are none. */
  rate: string | null;
  /** Commission by Refersion status, one formatted amount per currency. */
  commission: { status: ConversionStatus; label: string; amounts: string[] }[];
}

export interface AttributionView {
  connected: boolean;
  lastReceived: string | null;
  periods: AttributionPeriodView[];
}

const DAY_MS = 86_400_000;
const SCALE = 1_000_000n;

/** Sums decimal strings exactly (amounts have at most 6 decimals), as a decimal string. */
export function sumDecimals(values: readonly string[]): string {
  let total = 0n;
  for (const value of values) {
    const negative = value.startsWith("-");
    const [whole, fraction = ""] = value.replace("-", "").split(".");
    const units = BigInt(whole || "0") * SCALE + BigInt((fraction + "000000").slice(0, 6));
    total += negative ? -units : units;
  }
  const sign = total < 0n ? "-" : "";
  const magnitude = total < 0n ? -total : total;
  const fraction = (magnitude % SCALE).toString().padStart(6, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${sign}${magnitude / SCALE}.${fraction}`;
}

/**
 * For the last 7 and 30 days: orders delivered to Refersion, how many Refersion credited to an
 * affiliate, the rate, and the commission of their conversions by status.
 */
export async function loadAttributionView(shop: string, options: { now?: Date; timeZone?: string } = {}): Promise<AttributionView> {
  const now = options.now ?? new Date();
  const longest = await forwardedOrdersSince(shop, new Date(now.getTime() - 30 * DAY_MS), now);
  const lastReceived = formatDateTime((await findConversionReceiver(shop))?.lastReceivedAt, options.timeZone);
  const periods = [7, 30].map((days): AttributionPeriodView => {
    const since = now.getTime() - days * DAY_MS;
    const orders = longest.orders.filter((order) => order.deliveredAt.getTime() >= since);
    const count = (kind: OrderOutcome["kind"]) => orders.filter((order) => order.outcome.kind === kind).length;
    const credited = count("credited");
    // Orders sent before the connection would count as never credited: the rate leaves them out.
    const beforeConnection = count("before_connection");
    const judged = orders.length - beforeConnection;
    const commission = (["approved", "pending", "denied"] as const).map((status) => {
      const byCurrency = new Map<string, string[]>();
      for (const order of orders) {
        for (const conversion of longest.conversions.get(order.orderId) ?? []) {
          if (conversion.status !== status || conversion.commission === null) continue;
          const currency = conversion.currency ?? "";
          byCurrency.set(currency, [...(byCurrency.get(currency) ?? []), conversion.commission]);
        }
      }
      const amounts = [...byCurrency].map(([currency, values]) => formatMoney(sumDecimals(values), currency || null)!);
      return { status, label: STATUS_LABELS[status], amounts };
    });
    return {
      days,
      forwarded: orders.length,
      credited,
      denied: count("denied"),
      waiting: count("waiting"),
      noClick: count("no_affiliate_click"),
      beforeConnection,
      rate: judged === 0 ? null : `${Math.round((credited / judged) * 100)}%`,
      commission,
    };
  });
  return { connected: longest.receiver !== null, lastReceived, periods };
}

/**
 * One page of the delivery log under the Affiliate filter, in the shape of the outbox's own
 * listing: the orders matching it, newest first (the other filters do not apply with it).
 */
export async function affiliateFilteredLog(shop: string, filter: AffiliateFilter, page: number, pageSize: number, now = new Date()) {
  const total = (await orderIdsMatching(shop, filter, { skip: 0, take: 0 }, now)).total;
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(1, page), pageCount);
  const { ids } = await orderIdsMatching(shop, filter, { skip: (current - 1) * pageSize, take: pageSize }, now);
  return { rows: await deliveryRowsByIds(shop, ids), total, page: current, pageCount, countsByStatus: await shopCountsByStatus(shop) };
}

export const AFFILIATE_FILTER_CHOICES = AFFILIATE_FILTERS.map((value) => ({ value, label: AFFILIATE_FILTER_LABELS[value] }));
