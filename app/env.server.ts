import { z } from "zod";

/**
 * Every environment variable the app reads, each defined once. The web server and the worker
 * parse all of them at start-up (`env()`): a missing or invalid variable stops the process at
 * boot with a message naming it, instead of failing later inside a request. Modules that the
 * operator's `shop` commands also load read through the narrower accessors below, so that a
 * command needs only the variables it uses.
 */
const Variables = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  SHOPIFY_API_KEY: z.string({ error: "is required (the app's client id from the Partner Dashboard)" }),
  SHOPIFY_API_SECRET: z.string({ error: "is required (the app's client secret)" }),
  SHOPIFY_APP_URL: z.url({ error: "is required: the app's public URL, e.g. https://example.com" }),
  SCOPES: z
    .string()
    .default("read_orders,read_themes,write_pixels,read_customer_events")
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
  // The checkout pixel's reports accepted per shop and minute (per process); more are answered 429.
  PIXEL_REPORTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(300),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
});

const EnvSchema = Variables.refine((config) => config.DELIVERY_LEASE_MS > config.REFERSION_TIMEOUT_MS, {
  // A lease that can lapse while its request is still waiting for Refersion lets another
  // process send the same order again.
  path: ["DELIVERY_LEASE_MS"],
  message: "must be longer than REFERSION_TIMEOUT_MS, or another process could send an order while its request is still waiting",
});

/** Parts of the environment read on their own, each picked from the one definition above. */
const parts = {
  /** Opening the database. */
  database: Variables.pick({ NODE_ENV: true, DATABASE_URL: true }),
  /** Sealing and opening the shops' Refersion secret keys. */
  encryption: Variables.pick({ APP_ENCRYPTION_KEY: true, APP_ENCRYPTION_KEY_PREVIOUS: true }),
  /** Writing log lines. */
  logging: Variables.pick({ LOG_LEVEL: true }),
  /** The app's secret alone: it derives the cart id of an order that carries no cart token. */
  appSecret: Variables.pick({ SHOPIFY_API_SECRET: true }),
  /** Talking to Shopify as the app: its credentials, URL and scopes. */
  shopify: Variables.pick({ SHOPIFY_API_KEY: true, SHOPIFY_API_SECRET: true, SHOPIFY_APP_URL: true, SCOPES: true }),
};

export type Env = z.infer<typeof EnvSchema>;
export type EnvPart = keyof typeof parts;
export type EnvOf<P extends EnvPart> = z.infer<(typeof parts)[P]>;

export class EnvError extends Error {
  override name = "EnvError";
}

type Source = Record<string, string | undefined>;

function parseWith<S extends z.ZodType>(schema: S, source: Source): z.infer<S> {
  // `NAME=` in a .env file means "not set": the default applies, or "is required" is reported.
  const given = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ""));
  const result = schema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n");
    throw new EnvError(`Invalid environment configuration:\n${problems}\nSee .env.example.`);
  }
  return result.data;
}

export function parseEnv(source: Source): Env {
  return parseWith(EnvSchema, source);
}

/** Only the variables of one part; the others may be missing or invalid. */
export function parseEnvPart<P extends EnvPart>(part: P, source: Source): EnvOf<P> {
  return parseWith(parts[part], source) as EnvOf<P>;
}

function parsedOnce<T>(parse: (source: Source) => T): () => T {
  let cached: T | undefined;
  return () => {
    cached ??= parse(process.env);
    return cached;
  };
}

/** The whole environment; parsed on first use and kept for the life of the process. */
export const env: () => Env = parsedOnce(parseEnv);

/** DATABASE_URL and NODE_ENV, parsed once. */
export const databaseEnv: () => EnvOf<"database"> = parsedOnce((source) => parseEnvPart("database", source));

/** APP_ENCRYPTION_KEY and APP_ENCRYPTION_KEY_PREVIOUS, parsed once. */
export const encryptionEnv: () => EnvOf<"encryption"> = parsedOnce((source) => parseEnvPart("encryption", source));

/** LOG_LEVEL, parsed once. */
export const loggingEnv: () => EnvOf<"logging"> = parsedOnce((source) => parseEnvPart("logging", source));

/** SHOPIFY_API_SECRET, parsed once. */
export const appSecretEnv: () => EnvOf<"appSecret"> = parsedOnce((source) => parseEnvPart("appSecret", source));
