import crypto from "node:crypto";
import { getHmac } from "@shopify/shopify-api/test-helpers";

export interface WebhookRequestOptions {
  url?: string;
  topic: string;
  shop: string;
  body: string;
  secret: string;
  webhookId?: string;
  apiVersion?: string;
  /** Sign with this secret instead (a forged request). */
  forgeWith?: string;
  omitHeaders?: string[];
  method?: string;
}

/** Shopify's webhook headers for a body, signed the way Shopify signs them (HMAC-SHA256 of the raw body). */
export function webhookHeaders(options: WebhookRequestOptions): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Shopify-Hmac-Sha256": getHmac(options.body, options.forgeWith ?? options.secret),
    "X-Shopify-Topic": options.topic,
    "X-Shopify-Shop-Domain": options.shop,
    "X-Shopify-API-Version": options.apiVersion ?? "2026-10",
    "X-Shopify-Webhook-Id": options.webhookId ?? crypto.randomUUID(),
    "X-Shopify-Triggered-At": new Date().toISOString(),
    "X-Shopify-Event-Id": crypto.randomUUID(),
  };
  for (const name of options.omitHeaders ?? []) delete headers[name];
  return headers;
}

export function webhookRequest(options: WebhookRequestOptions): Request {
  const method = options.method ?? "POST";
  return new Request(options.url ?? `https://refersion-app.test/webhooks/${options.topic}`, {
    method,
    headers: webhookHeaders(options),
    body: method === "GET" || method === "HEAD" ? undefined : options.body,
  });
}
