import { clickDataOfJob, latestBackfillJob, progressOf, startBackfill, type BackfillProgress, type JobClickData } from "./backfill.server";
import { backfillFormErrors, backfillFormSchema, DAY_MS, READABLE_DAYS, type BackfillFormErrors } from "./backfill-form";

/** What the "resend past orders" page shows: the shop's latest job (from the database, so a reload keeps it) and the form's defaults. */
export interface BackfillPageView {
  job: BackfillProgress | null;
  /** The latest job's queued orders by whether they can credit an affiliate; null without a job. */
  clickData: JobClickData | null;
  /** Whether a job is queued or running (the form is then disabled and the page polls). */
  active: boolean;
  defaults: { since: string; until: string };
  today: string;
  /** The oldest day whose orders Shopify lets the app read. */
  oldestReadable: string;
}

const day = (date: Date) => date.toISOString().slice(0, 10);

export async function loadBackfillPage(shop: string, now = new Date()): Promise<BackfillPageView> {
  const job = await latestBackfillJob(shop);
  const progress = job ? progressOf(job) : null;
  return {
    job: progress,
    clickData: job ? await clickDataOfJob(job) : null,
    active: progress?.status === "queued" || progress?.status === "running",
    defaults: { since: day(new Date(now.getTime() - 7 * DAY_MS)), until: day(now) },
    today: day(now),
    oldestReadable: day(new Date(now.getTime() - READABLE_DAYS * DAY_MS)),
  };
}

export type StartBackfillResult =
  | { ok: true; created: boolean; job: BackfillProgress }
  | { ok: false; errors: BackfillFormErrors };

/** Validates the form and starts a job, or returns the one already running. */
export async function startBackfillFromAdmin(shop: string, fields: Record<string, unknown>, now = new Date()): Promise<StartBackfillResult> {
  const form = backfillFormSchema(now).safeParse(fields);
  if (!form.success) return { ok: false, errors: backfillFormErrors(form.error) };
  const { job, created } = await startBackfill(shop, form.data);
  return { ok: true, created, job: progressOf(job) };
}
