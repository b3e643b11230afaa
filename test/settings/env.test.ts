import { databaseEnv, encryptionEnv, loggingEnv, parseEnv, parseEnvPart, type EnvPart } from "~/env.server";
import { TEST_ENV } from "../support/test-env";

describe("environment parsing", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv({ ...TEST_ENV, REFERSION_WEBHOOK_URL: undefined, REFERSION_API_URL: undefined, DELIVERY_WORKER: undefined, LOG_LEVEL: undefined });
    expect(env).toMatchObject({
      REFERSION_WEBHOOK_URL: "https://inbound-webhooks.refersion.com/tracker/orders/paid",
      REFERSION_API_URL: "https://api.refersion.com/v2",
      DELIVERY_RETRY_BASE_MS: 30_000,
      DELIVERY_WORKER: "on",
      PORT: 3000,
      PERSONAL_DATA_RETENTION_DAYS: 30,
    });
    expect(env.SCOPES).toEqual(["read_orders", "read_themes", "write_pixels", "read_customer_events"]);
  });

  it("names every missing or invalid variable", () => {
    expect(() => parseEnv({ ...TEST_ENV, SHOPIFY_API_SECRET: undefined, APP_ENCRYPTION_KEY: "short", DATABASE_URL: "mysql://x" })).toThrow(
      /SHOPIFY_API_SECRET[\s\S]*DATABASE_URL[\s\S]*APP_ENCRYPTION_KEY|SHOPIFY_API_SECRET[\s\S]*APP_ENCRYPTION_KEY[\s\S]*DATABASE_URL/,
    );
  });

  it("does not echo a secret value in its error", () => {
    try {
      parseEnv({ ...TEST_ENV, APP_ENCRYPTION_KEY: "not-hex-but-secret-material" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain("APP_ENCRYPTION_KEY");
      expect(String(error)).not.toContain("not-hex-but-secret-material");
    }
  });

  it("treats an empty value (NAME= in .env) as not set: the default applies, a required one is reported as required", () => {
    const env = parseEnv({ ...TEST_ENV, REFERSION_WEBHOOK_URL: "", PORT: " ", SCOPES: undefined });
    expect(env.REFERSION_WEBHOOK_URL).toBe("https://inbound-webhooks.refersion.com/tracker/orders/paid");
    expect(env.PORT).toBe(3000);
    // The default matches shopify.app.toml: orders, themes for the embed status, and the checkout pixel.
    expect(env.SCOPES).toEqual(["read_orders", "read_themes", "write_pixels", "read_customer_events"]);
    expect(() => parseEnv({ ...TEST_ENV, SHOPIFY_API_KEY: "" })).toThrow(/SHOPIFY_API_KEY: is required/);
  });

  it("refuses a delivery lease that could lapse while its request to Refersion is still waiting", () => {
    expect(() => parseEnv({ ...TEST_ENV, DELIVERY_LEASE_MS: "15000", REFERSION_TIMEOUT_MS: "15000" })).toThrow(
      /DELIVERY_LEASE_MS: must be longer than REFERSION_TIMEOUT_MS/,
    );
    expect(parseEnv({ ...TEST_ENV, DELIVERY_LEASE_MS: "15001", REFERSION_TIMEOUT_MS: "15000" }).DELIVERY_LEASE_MS).toBe(15_001);
  });
});

describe("parts of the environment, for code that also runs outside the app (the shop commands)", () => {
  const KEY = TEST_ENV.APP_ENCRYPTION_KEY;

  it("opens the database with DATABASE_URL alone (or its default), whatever else is missing", () => {
    expect(parseEnvPart("database", { DATABASE_URL: "postgresql://app@127.0.0.1:5432/app" })).toEqual({
      NODE_ENV: "development",
      DATABASE_URL: "postgresql://app@127.0.0.1:5432/app",
    });
    expect(parseEnvPart("database", {}).DATABASE_URL).toBe("file:./prisma/dev.sqlite");
    expect(() => parseEnvPart("database", { DATABASE_URL: "mysql://x", SHOPIFY_API_KEY: "" })).toThrow(
      /^Invalid environment configuration:\n {2}DATABASE_URL: must start with file:[^\n]*\nSee \.env\.example\.$/,
    );
  });

  it("reads the encryption keys alone, and names only what is wrong with them", () => {
    expect(parseEnvPart("encryption", { APP_ENCRYPTION_KEY: KEY })).toEqual({ APP_ENCRYPTION_KEY: KEY });
    expect(parseEnvPart("encryption", { APP_ENCRYPTION_KEY: KEY, APP_ENCRYPTION_KEY_PREVIOUS: KEY.toUpperCase() }).APP_ENCRYPTION_KEY_PREVIOUS).toBe(KEY.toUpperCase());
    try {
      parseEnvPart("encryption", { APP_ENCRYPTION_KEY: "not-hex-but-secret-material", DATABASE_URL: "mysql://x" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain("APP_ENCRYPTION_KEY: must be 64 hexadecimal characters");
      expect(String(error)).not.toMatch(/not-hex-but-secret-material|DATABASE_URL|SHOPIFY/);
    }
    expect(() => parseEnvPart("encryption", {})).toThrow(/APP_ENCRYPTION_KEY: is required/);
  });

  it("asks for the app's secret alone, or for every Shopify variable, as each part needs", () => {
    expect(() => parseEnvPart("appSecret", { APP_ENCRYPTION_KEY: KEY })).toThrow(/^Invalid environment configuration:\n {2}SHOPIFY_API_SECRET: is required[^\n]*\nSee/);
    expect(parseEnvPart("appSecret", { SHOPIFY_API_SECRET: "s" })).toEqual({ SHOPIFY_API_SECRET: "s" });
    let message = "";
    try {
      parseEnvPart("shopify", { SHOPIFY_API_SECRET: "s" });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/SHOPIFY_API_KEY: is required[\s\S]*SHOPIFY_APP_URL: is required/);
    expect(message).not.toMatch(/SHOPIFY_API_SECRET|APP_ENCRYPTION_KEY|DATABASE_URL/);
    expect(parseEnvPart("logging", { LOG_LEVEL: "silent" })).toEqual({ LOG_LEVEL: "silent" });
  });

  it("defines each variable once: every part reads what the whole environment reads", () => {
    const source = { ...TEST_ENV, DATABASE_URL: "file:/tmp/x.sqlite", APP_ENCRYPTION_KEY_PREVIOUS: KEY, SCOPES: "read_orders" };
    const whole = parseEnv(source);
    for (const part of ["database", "encryption", "logging", "appSecret", "shopify"] satisfies EnvPart[]) {
      const values = parseEnvPart(part, source);
      expect(values).toEqual(Object.fromEntries(Object.keys(values).map((name) => [name, whole[name as keyof typeof whole]])));
    }
  });

  it("parses each part of this process's environment once", () => {
    expect(databaseEnv().DATABASE_URL).toBe(process.env.DATABASE_URL);
    expect(databaseEnv()).toBe(databaseEnv());
    expect(encryptionEnv().APP_ENCRYPTION_KEY).toBe(KEY);
    expect(encryptionEnv()).toBe(encryptionEnv());
    expect(loggingEnv().LOG_LEVEL).toBe(TEST_ENV.LOG_LEVEL);
  });
});
