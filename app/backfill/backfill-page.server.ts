import { clickDataOfJob, latestBackfillJob, progressOf, startBackfill, type BackfillProgress, type JobClickData } from "./backfill.server";
import { addDays, dayKeyOf } from "../zone-days";
import { backfillFormErrors, backfillFormSchema, READABLE_DAYS, type BackfillFormErrors } from "./backfill-form";

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
  /** The shop's time zone (IANA name), in which the days are counted. */
  timeZone: string;
}

/** Days are the shop's (`timeZone`, its IANA name from Shopify's settings). */
export async function loadBackfillPage(shop: string, timeZone: string, now = new Date()): Promise<BackfillPageView> {
  const job = await latestBackfillJob(shop);
  const progress = job ? progressOf(job, timeZone) : null;
  const today = dayKeyOf(now, timeZone);
  return {
    job: progress,
    clickData: job ? await clickDataOfJob(job) : null,
    active: progress?.status === "queued" || progress?.status === "running",
    defaults: { since: addDays(today, -7), until: today },
    today,
    oldestReadable: addDays(today, -READABLE_DAYS),
    timeZone,
  };
}

export type StartBackfillResult =
  | { ok: true; created: boolean; job: BackfillProgress }
  | { ok: false; errors: BackfillFormErrors };

/** Validates the form (days in the shop's `timeZone`) and starts a job, or returns the one already running. */
export async function startBackfillFromAdmin(shop: string, fields: Record<string, unknown>, timeZone: string, now = new Date()): Promise<StartBackfillResult> {
  const form = backfillFormSchema(now, timeZone).safeParse(fields);
  if (!form.success) return { ok: false, errors: backfillFormErrors(form.error) };
  const { job, created } = await startBackfill(shop, form.data);
  return { ok: true, created, job: progressOf(job, timeZone) };
}
