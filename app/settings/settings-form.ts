import { z } from "zod";

/**
 * The settings form, validated with the same schema in the browser and on the server.
 * The secret key is write-only: an empty value keeps the one already saved.
 */
const trimmed = (schema: z.ZodString) => z.preprocess((value) => (typeof value === "string" ? value.trim() : value), schema);
const checkbox = z.preprocess((value) => value === true || value === "on" || value === "true", z.boolean());
const optionalCheckbox = z.preprocess(
  (value) => (value === undefined ? undefined : value === true || value === "on" || value === "true"),
  z.boolean().optional(),
);

/**
 * The admin shows a saved secret's last 4 characters. Refersion's secret keys are far longer;
 * a shorter value is a paste mistake, and its last 4 would give away most of it.
 */
export const SECRET_KEY_MIN_LENGTH = 10;

/**
 * Minutes an order without a storefront cart waits for the checkout pixel's click data before it
 * is sent (0: never). An hour at most: Refersion should hear of an order the same hour.
 */
export const CLICK_DATA_WAIT_MAX_MINUTES = 60;
const CLICK_DATA_WAIT_MESSAGE = `Enter a whole number of minutes from 0 to ${CLICK_DATA_WAIT_MAX_MINUTES}`;

export const SettingsFormSchema = z.object({
  publicKey: trimmed(
    z
      .string()
      .min(1, "Enter your Refersion public key")
      .max(200, "That is longer than any Refersion key")
      .regex(/^[A-Za-z0-9_-]+$/, "A Refersion key has only letters, digits, _ and -"),
  ),
  // The secret is typed blind (or pasted), so each mistake gets its own message.
  secretKey: trimmed(
    z
      .string()
      .max(200, "That is longer than any Refersion secret key: copy only the secret key")
      .refine((value) => !/\s/.test(value), "The secret key has a space or line break in it: copy it again from Refersion, without spaces")
      .regex(/^[A-Za-z0-9_-]*$/, "A Refersion secret key has only letters, digits, _ and -: copy it again from Refersion")
      // Empty keeps the saved secret.
      .refine(
        (value) => value === "" || value.length >= SECRET_KEY_MIN_LENGTH,
        `That is too short for a Refersion secret key (at least ${SECRET_KEY_MIN_LENGTH} characters): copy all of it`,
      ),
  ).optional(),
  forwardingEnabled: checkbox,
  currency: z.enum(["shop", "presentment"], { message: "Choose the shop's currency or the buyer's" }),
  forwardTestOrders: checkbox,
  sendCustomerDetails: checkbox,
  autoCreditAffiliate: checkbox,
  // Options added after the first release: absent from a submission means "keep as saved".
  forwardTrigger: z.enum(["created", "paid"], { message: "Choose when an order is sent" }).optional(),
  reverseCancellations: optionalCheckbox,
  reverseRefunds: optionalCheckbox,
  clickDataWaitMinutes: z
    .preprocess(
      (value) => (typeof value === "string" ? (/^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN) : value),
      z
        .number({ message: CLICK_DATA_WAIT_MESSAGE })
        .int(CLICK_DATA_WAIT_MESSAGE)
        .min(0, CLICK_DATA_WAIT_MESSAGE)
        .max(CLICK_DATA_WAIT_MAX_MINUTES, CLICK_DATA_WAIT_MESSAGE),
    )
    .optional(),
});

export type SettingsFormInput = z.input<typeof SettingsFormSchema>;
export type SettingsForm = z.output<typeof SettingsFormSchema>;
export type SettingsFieldErrors = Partial<Record<keyof SettingsForm, string>>;

export function fieldErrorsOf(error: z.ZodError): SettingsFieldErrors {
  const errors: SettingsFieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path[0] as keyof SettingsForm | undefined;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}

/**
 * The form parsed by the schema, and checked across fields: a secret key that is the public key
 * pasted twice. (A refinement on the object would stop the schema from being extended.)
 */
export function parseSettingsForm(input: unknown): { data: SettingsForm; errors: null } | { data: null; errors: SettingsFieldErrors } {
  const parsed = SettingsFormSchema.safeParse(input);
  if (!parsed.success) return { data: null, errors: fieldErrorsOf(parsed.error) };
  if (parsed.data.secretKey && parsed.data.secretKey === parsed.data.publicKey) {
    return { data: null, errors: { secretKey: "That is your public key again: paste the secret key, shown beside it in Refersion" } };
  }
  return { data: parsed.data, errors: null };
}
