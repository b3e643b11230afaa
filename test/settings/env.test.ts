import { parseEnv } from "~/env.server";
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
    expect(env.SCOPES).toEqual(["read_orders", "read_themes"]);
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
    // The default matches shopify.app.toml: orders, and themes for the embed status.
    expect(env.SCOPES).toEqual(["read_orders", "read_themes"]);
    expect(() => parseEnv({ ...TEST_ENV, SHOPIFY_API_KEY: "" })).toThrow(/SHOPIFY_API_KEY: is required/);
  });

  it("refuses a delivery lease that could lapse while its request to Refersion is still waiting", () => {
    expect(() => parseEnv({ ...TEST_ENV, DELIVERY_LEASE_MS: "15000", REFERSION_TIMEOUT_MS: "15000" })).toThrow(
      /DELIVERY_LEASE_MS: must be longer than REFERSION_TIMEOUT_MS/,
    );
    expect(parseEnv({ ...TEST_ENV, DELIVERY_LEASE_MS: "15001", REFERSION_TIMEOUT_MS: "15000" }).DELIVERY_LEASE_MS).toBe(15_001);
  });
});
