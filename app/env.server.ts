import { z } from "zod";

/**
 * Every environment variable the app reads, parsed once. A missing or invalid variable stops
 * the process at boot with a message naming it, instead of failing later inside a request.
 */
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  SHOPIFY_API_KEY: z.string({ error: "is required (the app's client id from the Partner Dashboard)" }),
  SHOPIFY_API_SECRET: z.string({ error: "is required (the app's client secret)" }),
  SHOPIFY_APP_URL: z.url({ error: "is required: the app's public URL, e.g. https://example.com" }),
  SCOPES: z
    .string()
    .default("read_orders,read_themes")
    .transform((value) => value.split(",").map((scope) => scope.trim()).filter(Boolean)),
  DATABASE_URL: z
    .string()
    .default("file:./prisma/dev.sqlite")
    .refine((url) => /^(file:|postgres(ql)?:\/\/)/.test(url), {
      message: "must start with file: (SQLite) or postgres:// / postgresql:// (PostgreSQL)",
    }),
  APP_ENCRYPTION_KEY: z
    .string({ error: "is required: 64 hexadecimal characters; generate one with: openssl rand -hex 32" })
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal characters (32 bytes); generate one with: openssl rand -hex 32"),
  // Accepted during a key rotation so secrets written under the old key stay readable.
  APP_ENCRYPTION_KEY_PREVIOUS: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal characters (32 bytes)")
    .optional(),
  REFERSION_WEBHOOK_URL: z.url().default("https://inbound-webhooks.refersion.com/tracker/orders/paid"),
  REFERSION_API_URL: z.url().default("https://api.refersion.com/v2"),
  REFERSION_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  DELIVERY_RETRY_BASE_MS: z.coerce.number().int().positive().default(30_000),
  DELIVERY_WORKER: z.enum(["on", "off"]).default("on"),
  DELIVERY_POLL_MS: z.coerce.number().int().positive().default(1_000),
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  DELIVERY_LEASE_MS: z.coerce.number().int().positive().default(60_000),
  // Stored orders lose the buyer's personal data after this many days.
  PERSONAL_DATA_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
}).refine((config) => config.DELIVERY_LEASE_MS > config.REFERSION_TIMEOUT_MS, {
  // A lease that can lapse while its request is still waiting for Refersion lets another
  // process send the same order again.
  path: ["DELIVERY_LEASE_MS"],
  message: "must be longer than REFERSION_TIMEOUT_MS, or another process could send an order while its request is still waiting",
});

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  override name = "EnvError";
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  // `NAME=` in a .env file means "not set": the default applies, or "is required" is reported.
  const given = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ""));
  const result = EnvSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n");
    throw new EnvError(`Invalid environment configuration:\n${problems}\nSee .env.example.`);
  }
  return result.data;
}

let cached: Env | undefined;

/** The parsed environment; parsed on first use and kept for the life of the process. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
