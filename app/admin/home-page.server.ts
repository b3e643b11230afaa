import { z } from "zod";
import { latestBackfillJob, progressOf } from "../backfill/backfill.server";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../outbox/delivery-status";
import { STATUS_LABELS } from "./delivery-reasons";
import { deliveryActivity, hasDeliveredOrder } from "../outbox/delivery-log.server";
import { getShopSettings, hasKeys } from "../settings/shop-settings.server";
import { offlineAccessProblemText } from "../shops/offline-access-problem.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { readThemeEmbedStatus, themeEditorEmbedUrl, type ThemeEmbedState } from "../storefront/theme-embed.server";
import { pixelStateOf } from "../attribution/web-pixel.server";
import { connectionView, type ConnectionView } from "./connection-view";
import { pixelStepOf } from "./pixel-view";
import { formatDateTime, formatDay } from "./format";

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

export interface HomeView {
  /** Shown above everything until a new job is started. */
  stoppedBackfill: StoppedBackfillView | null;
  steps: SetupStepView[];
  completedSteps: number;
  forwardingEnabled: boolean;
  hasKeys: boolean;
  connection: ConnectionView;
  embed: ThemeEmbedView;
  lastSevenDays: { total: number; byStatus: { status: DeliveryStatus; label: string; count: number }[] };
  chart: { days: { day: string; label: string; delivered: number; failed: number }[] };
}

/** The home page's one form, Test connection. Here rather than in the route: zod stays out of the page's browser bundle. */
export const HomeActionSchema = z.object({ intent: z.literal("test_connection") });

const DAY_MS = 86_400_000;

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
async function stoppedBackfillOf(shop: string): Promise<StoppedBackfillView | null> {
  const job = await latestBackfillJob(shop);
  if (!job || job.status !== "failed" || !job.accessProblem) return null;
  const progress = progressOf(job);
  return {
    reason: offlineAccessProblemText(job.accessProblem),
    since: progress.since,
    until: progress.until,
    processed: progress.processed,
    enqueued: progress.enqueued,
    stoppedAt: formatDateTime(job.finishedAt ?? job.updatedAt)!,
  };
}

/** The setup checklist, the last 7 days of deliveries and the chart, for one shop. */
export async function loadHomePage(input: { shop: string; graphql: AdminGraphql; apiKey: string; now?: Date }): Promise<HomeView> {
  const now = input.now ?? new Date();
  const settings = await getShopSettings(input.shop);
  const keysSaved = hasKeys(settings);
  const connection = connectionView({ status: settings.connectionStatus, checkedAt: settings.connectionCheckedAt, hasKeys: keysSaved });
  const embedStatus = await readThemeEmbedStatus(input.graphql);
  const embed: ThemeEmbedView = { ...embedStatus, editorUrl: themeEditorEmbedUrl(input.shop, input.apiKey) };
  const delivered = await hasDeliveredOrder(input.shop);

  // Seven UTC days, today included.
  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 6 * DAY_MS);
  const activity = await deliveryActivity(input.shop, since, now);

  const steps: SetupStepView[] = [
    {
      id: "keys",
      title: "Save your Refersion keys",
      state: keysSaved ? "done" : "todo",
      description: keysSaved
        ? "Your public and secret key are saved."
        : "Enter the public and secret key of your Refersion account. Orders received meanwhile wait for them.",
    },
    {
      id: "connection",
      title: "Verify the connection",
      state: connection.state === "valid" ? "done" : "todo",
      description: connection.state === "valid" ? "Refersion accepted your keys." : connection.message,
    },
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

  const byStatus = DELIVERY_STATUSES.map((status) => ({ status, label: STATUS_LABELS[status], count: activity.countsByStatus[status] }));
  return {
    stoppedBackfill: await stoppedBackfillOf(input.shop),
    steps,
    completedSteps: steps.filter((step) => step.state === "done").length,
    forwardingEnabled: settings.forwardingEnabled,
    hasKeys: keysSaved,
    connection,
    embed,
    lastSevenDays: { total: byStatus.reduce((sum, entry) => sum + entry.count, 0), byStatus },
    chart: { days: activity.perDay.map((entry) => ({ ...entry, label: formatDay(entry.day) })) },
  };
}
