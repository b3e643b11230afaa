import { loadAttributionView, type AttributionView } from "./conversions-view.server";
import { z } from "zod";
import { latestBackfillJob, progressOf } from "../backfill/backfill.server";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../outbox/delivery-status";
import { RECEIVED_WEBHOOKS_FAILING, STATUS_LABELS } from "./delivery-reasons";
import { hasDeliveredOrder, orderActivity, shopCountsByStatus, type OrderOutcome } from "../outbox/delivery-log.server";
import { getShopSettings, hasKeys } from "../settings/shop-settings.server";
import { isSetupGuideDismissed } from "../settings/setup-guide.server";
import { offlineAccessProblemText } from "../shops/offline-access-problem.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { readThemeEmbedStatus, themeEditorEmbedUrl, type ThemeEmbedState } from "../storefront/theme-embed.server";
import { pixelStateOf } from "../attribution/web-pixel.server";
import { connectionView, type ConnectionView } from "./connection-view";
import { pixelStepOf } from "./pixel-view";
import { attributionSharesOf } from "../attribution/attribution-shares.server";
import { attributionSharesView, type AttributionSharesView } from "./attribution-labels";
import { addDays, dayKeyOf, formatDate, formatDateTime, formatDay, formatMoney, startOfDay } from "./format";
import { countOf, pluralForm } from "./plural";
import { shopTimeZone } from "./shop-time-zone.server";
import { countReceivedWebhooksFailing } from "../webhooks/received-webhooks.server";

export type SetupStepId = "keys" | "connection" | "embed" | "pixel" | "first_order";

export interface SetupStepView {
  id: SetupStepId;
  title: string;
  /** done, to do, or could not be checked. */
  state: "done" | "todo" | "unknown";
  description: string;
}

export interface ThemeEmbedView {
  state: ThemeEmbedState;
  themeName: string | null;
  problem: string | null;
  /** The theme editor with the embed switched on; opened in the top window. */
  editorUrl: string;
}

/**
 * The shop's latest "resend past orders" job stopped because the app's access to the shop needed
 * the merchant. By the time the merchant sees the home page, opening the app has renewed that
 * access, so what is left to say is that the job stopped and can be started again.
 */
export interface StoppedBackfillView {
  /** What stopped it, in plain words. */
  reason: string;
  since: string;
  until: string | null;
  processed: number;
  enqueued: number;
  /** When it stopped, formatted. */
  stoppedAt: string;
}

/** A link of the app (path and query), built into an embedded href by the page. */
export interface AppLink {
  path: string;
  query?: Record<string, string>;
}

/** Something that needs the merchant, with the one place to go about it. */
export interface AttentionItem {
  id: "failed" | "retrying" | "waiting_for_keys" | "forwarding_off" | "embed_off" | "received_webhooks_failing";
  tone: "critical" | "warning";
  title: string;
  detail: string;
  /** None when there is nothing for the merchant to do but wait (the app keeps trying). */
  action: ({ content: string } & ({ app: AppLink } | { external: string })) | null;
}

/** The answer to "is it working?". */
export interface StatusHeaderView {
  live: boolean;
  headline: string;
  /** Why tracking is not live, when it is not. */
  why: string | null;
  /** Orders placed in the last 7 days that Refersion received. */
  sentThisWeek: number;
  /** Their value, per currency ("$1,234.50 + €80.00"); null when none. */
  valueForwarded: string | null;
  /** Orders that failed, are being retried or wait for keys, whenever they arrived. */
  needsAttention: number;
}

export interface SetupGuideView {
  steps: SetupStepView[];
  completed: number;
  complete: boolean;
  /** Hidden for good once dismissed. */
  dismissed: boolean;
}

export interface HomeView {
  /** Shown above everything until a new job is started. */
  stoppedBackfill: StoppedBackfillView | null;
  status: StatusHeaderView;
  attention: AttentionItem[];
  setup: SetupGuideView;
  /** The share of orders per attribution source, last 7 and last 30 days. */
  attributionSources: AttributionSharesView[];
  /** What Refersion's conversion webhooks reported of the orders forwarded, last 7 and 30 days. */
  conversionOutcomes: AttributionView;
  forwardingEnabled: boolean;
  hasKeys: boolean;
  connection: ConnectionView;
  embed: ThemeEmbedView;
  /** The figures of the statuses that can occur in this shop (see `applies`); `total` counts every order. */
  lastSevenDays: { total: number; byStatus: { status: DeliveryStatus; label: string; count: number }[] };
  chart: { days: { day: string; label: string; delivered: number; failed: number }[] };
  timeZone: string;
}

/** The home page's forms: Test connection, and dismissing the setup guide. Here rather than in the route: zod stays out of the page's browser bundle. */
export const HomeActionSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("test_connection") }),
  z.object({ intent: z.literal("dismiss_setup_guide") }),
]);

function embedDescription(embed: ThemeEmbedView): string {
  const theme = embed.themeName ? `"${embed.themeName}"` : "your live theme";
  switch (embed.state) {
    case "enabled":
      return `The Refersion tracking embed is on in ${theme}.`;
    case "disabled":
      return `The Refersion tracking embed is switched off in ${theme}. Switch it on and save the theme.`;
    case "not_added":
      return `Switch on the Refersion tracking embed in ${theme} (Theme settings > App embeds), then save the theme.`;
    case "unknown":
      return `We could not check ${theme}: ${embed.problem ?? "unknown problem"}`;
  }
}

/** The notice about the shop's latest job, when access stopped it; starting a new job dismisses it. */
async function stoppedBackfillOf(shop: string, timeZone: string): Promise<StoppedBackfillView | null> {
  const job = await latestBackfillJob(shop);
  if (!job || job.status !== "failed" || !job.accessProblem) return null;
  const progress = progressOf(job, timeZone);
  return {
    reason: offlineAccessProblemText(job.accessProblem),
    since: formatDate(progress.since),
    until: progress.until ? formatDate(progress.until) : null,
    processed: progress.processed,
    enqueued: progress.enqueued,
    stoppedAt: formatDateTime(job.finishedAt ?? job.updatedAt, timeZone)!,
  };
}

/**
 * The connection step. A delivered order proves the keys as well as a test does, so Refersion
 * being briefly down, or a plan without API access (the test uses the API, orders do not), never
 * turns a working setup back to "to do". Only keys Refersion rejected, or a secret the app can no
 * longer read, do.
 */
function connectionStep(connection: ConnectionView, delivered: boolean): SetupStepView {
  const base = { id: "connection" as const, title: "Check the connection to Refersion" };
  if (connection.state === "valid") return { ...base, state: "done", description: "Refersion accepted your keys." };
  // Without keys, step 1 already says where to enter them: this step says only what comes next.
  if (connection.state === "no_keys") return { ...base, state: "todo", description: "Once your keys are saved, the app tests them with Refersion." };
  if (connection.state === "rejected" || connection.state === "secret_unreadable") {
    return { ...base, state: "todo", description: connection.message };
  }
  if (delivered) return { ...base, state: "done", description: "Refersion has received orders sent with your keys, so they work." };
  if (connection.state === "plan_unavailable") {
    return {
      ...base,
      state: "unknown",
      description: "Your Refersion plan does not let the app test the keys; your first delivered order will confirm them.",
    };
  }
  if (connection.state === "unreachable") {
    return { ...base, state: "unknown", description: "Refersion did not answer the last test, which says nothing about your keys. Test again in a few minutes." };
  }
  return { ...base, state: "todo", description: "Test your saved keys with Refersion." };
}

/** Sums each currency's amounts and writes them one after another, by currency code; null when there is nothing. */
function valueOf(outcomes: OrderOutcome[]): string | null {
  const byCurrency = new Map<string, number>();
  for (const outcome of outcomes) {
    const amount = Number(outcome.totalAmount);
    if (outcome.status !== "delivered" || !outcome.currency || !Number.isFinite(amount)) continue;
    byCurrency.set(outcome.currency, (byCurrency.get(outcome.currency) ?? 0) + amount);
  }
  if (byCurrency.size === 0) return null;
  return [...byCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => formatMoney(amount, currency))
    .join(" + ");
}

function attentionOf(input: {
  counts: Record<DeliveryStatus, number>;
  forwardingEnabled: boolean;
  embed: ThemeEmbedView;
  ordersThisWeek: number;
  secretUnreadable: boolean;
  receivedWebhooksFailing: number;
}): AttentionItem[] {
  const { counts } = input;
  const items: AttentionItem[] = [];
  if (input.receivedWebhooksFailing > 0) {
    items.push({
      id: "received_webhooks_failing",
      tone: "warning",
      title: RECEIVED_WEBHOOKS_FAILING.title(input.receivedWebhooksFailing),
      detail: RECEIVED_WEBHOOKS_FAILING.detail(input.receivedWebhooksFailing),
      action: null,
    });
  }
  if (counts.failed > 0) {
    items.push({
      id: "failed",
      tone: "critical",
      title: `${countOf(counts.failed, "order")} failed`,
      detail: pluralForm(
        counts.failed,
        "Refersion did not take it and the app stopped trying. Its page says why and what to do.",
        "Refersion did not take them and the app stopped trying. Each one says why and what to do.",
      ),
      action: { content: "Review failed orders", app: { path: "/app/deliveries", query: { status: "failed" } } },
    });
  }
  if (counts.retrying > 0) {
    items.push({
      id: "retrying",
      tone: "warning",
      title: `${countOf(counts.retrying, "order")} waiting for another try`,
      detail: `Refersion did not take ${pluralForm(counts.retrying, "it", "them")} yet. The app tries again by itself for up to 72 hours.`,
      action: { content: "See orders being retried", app: { path: "/app/deliveries", query: { status: "retrying" } } },
    });
  }
  if (counts.waiting_for_keys > 0) {
    items.push({
      id: "waiting_for_keys",
      tone: "warning",
      title: `${countOf(counts.waiting_for_keys, "order")} waiting for your keys`,
      detail: input.secretUnreadable
        ? "The app can no longer read your saved secret key. They are sent as soon as you enter it again."
        : "They are sent as soon as your Refersion keys are saved.",
      action: { content: "Enter keys in Settings", app: { path: "/app/settings" } },
    });
  }
  if (!input.forwardingEnabled) {
    items.push({
      id: "forwarding_off",
      tone: "warning",
      title: "Forwarding is off",
      detail: "New orders are recorded but not sent to Refersion, so no affiliate is credited for them.",
      action: { content: "Switch it on in Settings", app: { path: "/app/settings" } },
    });
  }
  if ((input.embed.state === "disabled" || input.embed.state === "not_added") && input.ordersThisWeek > 0) {
    items.push({
      id: "embed_off",
      tone: "warning",
      title: "Orders are arriving while tracking is off in your theme",
      detail: `${countOf(input.ordersThisWeek, "order")} this week. Without the tracking embed, Refersion does not see which affiliate sent a buyer, so these orders cannot be credited.`,
      action: { content: "Turn on in theme editor", external: input.embed.editorUrl },
    });
  }
  return items;
}

function statusHeaderOf(input: {
  keysSaved: boolean;
  forwardingEnabled: boolean;
  embed: ThemeEmbedView;
  connectionStep: SetupStepView;
  connection: ConnectionView;
  outcomes: OrderOutcome[];
  counts: Record<DeliveryStatus, number>;
}): StatusHeaderView {
  // The first thing that stops orders from reaching Refersion, or affiliates from being credited.
  const why = !input.keysSaved
    ? "your Refersion keys are not saved."
    : input.connection.state === "secret_unreadable"
      ? "the app can no longer read your secret key."
      : input.connection.state === "rejected" && input.connectionStep.state !== "done"
        ? "Refersion rejected your keys."
        : !input.forwardingEnabled
          ? "forwarding is off in Settings."
          : input.embed.state === "disabled" || input.embed.state === "not_added"
            ? "the tracking embed is off in your theme."
            : null;
  const sent = input.outcomes.filter((outcome) => outcome.status === "delivered").length;
  return {
    live: why === null,
    headline: why === null ? "Tracking is live" : "Tracking is not live",
    why: why === null ? null : `Not live because ${why}`,
    sentThisWeek: sent,
    valueForwarded: valueOf(input.outcomes),
    needsAttention: input.counts.failed + input.counts.retrying + input.counts.waiting_for_keys,
  };
}

/** The status header, what needs attention, the setup guide and the last 7 days, for one shop. */
export async function loadHomePage(input: { shop: string; graphql: AdminGraphql; apiKey: string; now?: Date }): Promise<HomeView> {
  const now = input.now ?? new Date();
  const timeZone = await shopTimeZone(input.shop, input.graphql);
  const settings = await getShopSettings(input.shop);
  const keysSaved = hasKeys(settings);
  const connection = connectionView({ status: settings.connectionStatus, checkedAt: settings.connectionCheckedAt, hasKeys: keysSaved, timeZone });
  const embedStatus = await readThemeEmbedStatus(input.graphql);
  const embed: ThemeEmbedView = { ...embedStatus, editorUrl: themeEditorEmbedUrl(input.shop, input.apiKey) };
  const delivered = await hasDeliveredOrder(input.shop);

  // Seven of the shop's days, today included, by the day each order was placed.
  const today = dayKeyOf(now, timeZone);
  const days = Array.from({ length: 7 }, (_, index) => addDays(today, index - 6));
  const activity = await orderActivity(input.shop, startOfDay(days[0], timeZone), now);
  const counts = await shopCountsByStatus(input.shop);

  const steps: SetupStepView[] = [
    {
      id: "keys",
      title: "Save your Refersion keys",
      state: keysSaved ? "done" : "todo",
      description: keysSaved
        ? "Your public and secret key are saved."
        : "Copy the public and secret key from your Refersion account into Settings. Orders received meanwhile wait for them.",
    },
    connectionStep(connection, delivered),
    {
      id: "embed",
      title: "Turn on tracking in your theme",
      state: embed.state === "enabled" ? "done" : embed.state === "unknown" ? "unknown" : "todo",
      description: embedDescription(embed),
    },
    { id: "pixel", title: "Checkout pixel connected", ...pixelStepOf(await pixelStateOf(input.shop)) },
    {
      id: "first_order",
      title: "First order delivered",
      state: delivered ? "done" : "todo",
      description: delivered ? "Refersion has received an order from this shop." : "The first order after setup will show up here.",
    },
  ];
  const completed = steps.filter((step) => step.state === "done").length;

  const perDay = new Map(days.map((day) => [day, { day, label: formatDay(day), delivered: 0, failed: 0 }]));
  for (const outcome of activity.outcomes) {
    const entry = perDay.get(dayKeyOf(outcome.placedAt, timeZone));
    if (entry) entry[outcome.status] += 1;
  }
  const ordersThisWeek = DELIVERY_STATUSES.reduce((sum, status) => sum + activity.countsByStatus[status], 0);
  // A status that cannot happen in this shop is not a figure: orders wait for payment only
  // under the "paid" trigger, and for keys only while none are saved (or rows from before say so).
  const applies = (status: DeliveryStatus) =>
    activity.countsByStatus[status] > 0 ||
    (status === "waiting_for_payment" ? settings.forwardTrigger === "paid" : status === "waiting_for_keys" ? !keysSaved : true);
  const byStatus = DELIVERY_STATUSES.filter(applies).map((status) => ({ status, label: STATUS_LABELS[status], count: activity.countsByStatus[status] }));

  return {
    stoppedBackfill: await stoppedBackfillOf(input.shop, timeZone),
    status: statusHeaderOf({ keysSaved, forwardingEnabled: settings.forwardingEnabled, embed, connectionStep: steps[1], connection, outcomes: activity.outcomes, counts }),
    attention: attentionOf({
      counts,
      forwardingEnabled: settings.forwardingEnabled,
      embed,
      ordersThisWeek,
      secretUnreadable: connection.state === "secret_unreadable",
      receivedWebhooksFailing: await countReceivedWebhooksFailing(input.shop),
    }),
    setup: { steps, completed, complete: completed === steps.length, dismissed: await isSetupGuideDismissed(input.shop) },
    attributionSources: await Promise.all(
      [7, 30].map(async (count) => attributionSharesView(await attributionSharesOf(input.shop, count, startOfDay(addDays(today, 1 - count), timeZone)))),
    ),
    conversionOutcomes: await loadAttributionView(input.shop, { now, timeZone }),
    forwardingEnabled: settings.forwardingEnabled,
    hasKeys: keysSaved,
    connection,
    embed,
    lastSevenDays: { total: ordersThisWeek, byStatus },
    chart: { days: [...perDay.values()] },
    timeZone,
  };
}
