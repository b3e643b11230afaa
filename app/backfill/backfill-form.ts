import { z } from "zod";

/**
 * The "resend past orders" form (admin page and command line): a range of whole days, in UTC.
 * `until` is optional (up to now) and included. The same schema runs in the browser and on the
 * server.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const DAY_MS = 86_400_000;

/** How far back the read_orders scope lets an app read orders (older ones need read_all_orders). */
export const READABLE_DAYS = 60;

function dayStart(value: string): Date | null {
  if (!DAY.test(value)) return null;
  const date = new Date(`${value}T00:00:00.000Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : date;
}

const dayField = (label: string) =>
  z
    .string()
    .trim()
    .refine((value) => dayStart(value) !== null, `${label} must be a date like 2026-11-01`);

export function backfillFormSchema(now: Date = new Date()) {
  const today = now.toISOString().slice(0, 10);
  return z
    .object({
      since: dayField("From"),
      until: z.preprocess((value) => (value === "" || value === null ? undefined : value), dayField("To").optional()),
    })
    .refine((form) => form.since <= today, { path: ["since"], message: "From cannot be in the future" })
    .refine((form) => !form.until || form.until >= form.since, { path: ["until"], message: "To must be on or after From" })
    .transform((form) => ({
      since: dayStart(form.since)!,
      // The end of the last day; none means "up to now".
      until: form.until ? new Date(dayStart(form.until)!.getTime() + DAY_MS - 1) : null,
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
