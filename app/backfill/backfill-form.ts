import { z } from "zod";
import { addDays, dayKeyOf, DEFAULT_TIME_ZONE, startOfDay } from "../zone-days";

/**
 * The "resend past orders" form (admin page and command line): a range of whole days in the
 * shop's time zone (the command line, which does not ask Shopify for it, uses UTC). `until` is
 * optional (up to now) and included. The same schema runs in the browser and on the server.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** How far back the read_orders scope lets an app read orders (older ones need read_all_orders). */
export const READABLE_DAYS = 60;

/** Whether the value is a real calendar day, YYYY-MM-DD. */
function isDay(value: string): boolean {
  if (!DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const dayField = (label: string) =>
  z
    .string()
    .trim()
    .refine(isDay, `${label} must be a date like 2026-11-01`);

export function backfillFormSchema(now: Date = new Date(), timeZone: string = DEFAULT_TIME_ZONE) {
  const today = dayKeyOf(now, timeZone);
  return z
    .object({
      since: dayField("From"),
      until: z.preprocess((value) => (value === "" || value === null ? undefined : value), dayField("To").optional()),
    })
    .refine((form) => form.since <= today, { path: ["since"], message: "From cannot be in the future" })
    .refine((form) => !form.until || form.until >= form.since, { path: ["until"], message: "To must be on or after From" })
    .transform((form) => ({
      // The instant the first day begins in the zone.
      since: startOfDay(form.since, timeZone),
      // The last instant of the last day (the next day's start, less 1 ms); none means "up to now".
      until: form.until ? new Date(startOfDay(addDays(form.until, 1), timeZone).getTime() - 1) : null,
    }));
}

export type BackfillFormErrors = Partial<Record<"since" | "until", string>>;

export function backfillFormErrors(error: z.ZodError): BackfillFormErrors {
  const errors: BackfillFormErrors = {};
  for (const issue of error.issues) {
    const field = issue.path[0];
    if ((field === "since" || field === "until") && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}
