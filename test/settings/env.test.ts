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
});
