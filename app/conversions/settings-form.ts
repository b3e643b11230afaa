import { z } from "zod";

/**
 * The settings page's "Conversion webhooks" form. The signing secret is write-only: empty keeps
 * the saved one. Refersion's signing secret format is not documented, so only its length and
 * the absence of spaces are checked.
 */
export const SIGNING_SECRET_MIN_LENGTH = 8;
export const DEFAULT_GRACE_HOURS = 24;
export const MAX_GRACE_HOURS = 24 * 30;

export const ConversionSettingsFormSchema = z.object({
  signingSecret: z
    .preprocess(
      (value) => (typeof value === "string" ? value.trim() : value),
      z
        .string()
        .max(200, "That is longer than a signing secret")
        .regex(/^\S*$/, "A signing secret has no spaces")
        .refine(
          (value) => value === "" || value.length >= SIGNING_SECRET_MIN_LENGTH,
          `That is too short for a signing secret (at least ${SIGNING_SECRET_MIN_LENGTH} characters)`,
        ),
    )
    .optional(),
  graceHours: z.coerce
    .number({ error: "Enter a number of hours" })
    .int("Enter whole hours")
    .min(1, "At least 1 hour")
    .max(MAX_GRACE_HOURS, `At most ${MAX_GRACE_HOURS} hours (30 days)`),
});

export type ConversionSettingsForm = z.output<typeof ConversionSettingsFormSchema>;
export type ConversionSettingsErrors = Partial<Record<keyof ConversionSettingsForm, string>>;

export function conversionSettingsErrorsOf(error: z.ZodError): ConversionSettingsErrors {
  const errors: ConversionSettingsErrors = {};
  for (const issue of error.issues) {
    const field = issue.path[0] as keyof ConversionSettingsForm | undefined;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}
