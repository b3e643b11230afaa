import crypto from "node:crypto";

/** The HMAC Shopify puts in X-Shopify-Hmac-Sha256: SHA-256 of the raw body with the app's secret, base64. */
export function signWebhook(body: string | Buffer, secret: string): string {
  return crypto.createHmac("sha256", secret).update(body).digest("base64");
}

/**
 * The headers Shopify sends a webhook with, signed for `body`, for local runs (the soak, the
 * bench). A repeated `webhookId` is how Shopify retries a delivery.
 */
export function shopifyWebhookHeaders(options: { topic: string; shop: string; body: string | Buffer; secret: string; webhookId?: string }): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-shopify-hmac-sha256": signWebhook(options.body, options.secret),
    "x-shopify-topic": options.topic,
    "x-shopify-shop-domain": options.shop,
    "x-shopify-api-version": "2026-10",
    "x-shopify-webhook-id": options.webhookId ?? crypto.randomUUID(),
    "x-shopify-triggered-at": new Date().toISOString(),
    "x-shopify-event-id": crypto.randomUUID(),
  };
}
