/** The environment every test process runs with. Values are test-only, never real secrets. */
export const TEST_ENV = {
  NODE_ENV: "test",
  SHOPIFY_API_KEY: "test-api-key-0123456789",
  SHOPIFY_API_SECRET: "test-api-secret-abcdef0123456789",
  SHOPIFY_APP_URL: "https://refersion-app.test",
  SCOPES: "read_orders,read_themes,write_pixels,read_customer_events",
  APP_ENCRYPTION_KEY: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
  REFERSION_WEBHOOK_URL: "http://127.0.0.1:9/tracker/orders/paid",
  REFERSION_API_URL: "http://127.0.0.1:9/v2",
  DELIVERY_WORKER: "off",
  LOG_LEVEL: "warn",
} as const;
