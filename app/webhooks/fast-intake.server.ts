import { isUtf8 } from "node:buffer";
import crypto from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { sanitizeShop } from "../shopify.server";
import { isKnownShop } from "../shops/known-shop.server";
import { MAX_WEBHOOK_BODY_BYTES, sameTopic } from "./receive-webhook.server";
import { appendReceivedWebhook } from "./received-webhooks.server";
import type { OrderWebhookTopic } from "./order-webhooks.server";

/*
 * The fast path of the order webhooks (docs/decisions/0014-webhook-intake-fast-path.md): served
 * by server/app-server.mjs ahead of Express and Remix. It verifies the signature, the topic and
 * the shop, appends the body as received to ReceivedWebhook and acknowledges once that is
 * committed; it does not read the body. The background work reads it and acts on it later as
 * the route would have: a body that is not JSON is recorded as unreadable, one that does not fit
 * the topic is logged and dropped (the route answers that one 422; here it was acknowledged).
 * Whatever it does not recognise as a plain, signed webhook of the route's topic for a shop the
 * app knows goes to the route, whose answers (401, 400, 413, a stranger's webhook dropped) stay
 * the judge of it.
 */

const FAST_PATHS: Record<string, OrderWebhookTopic> = {
  "/webhooks/orders/create": "orders/create",
  "/webhooks/orders/paid": "orders/paid",
  "/webhooks/orders/cancelled": "orders/cancelled",
  "/webhooks/refunds/create": "refunds/create",
};

/** The topic whose webhooks this path receives on the fast path; null for every other path. */
export function fastIntakeTopic(pathname: string): OrderWebhookTopic | null {
  return Object.hasOwn(FAST_PATHS, pathname) ? FAST_PATHS[pathname] : null;
}

/** The webhooks' body limit, which the server applies before reading (above it, the route answers 413). */
export const FAST_INTAKE_BODY_BYTES = MAX_WEBHOOK_BODY_BYTES;

const header = (headers: IncomingHttpHeaders, name: string): string | null => {
  const value = headers[name];
  return typeof value === "string" && value.length > 0 ? value : null;
};

/**
 * Shopify's signature as `shopify.webhooks.validate` checks it: HMAC-SHA256 with the app's
 * secret of the body's UTF-8 text, base64, compared as strings. The caller passes bytes that are
 * valid UTF-8, whose text re-encodes to the same bytes, so signing the bytes is signing the
 * text. test/webhooks/fast-intake.test.ts holds the two to the same verdicts.
 */
export function signatureMatches(body: Buffer, signature: string, secret: string): boolean {
  const expected = Buffer.from(crypto.createHmac("sha256", secret).update(body).digest("base64"));
  const received = Buffer.from(signature);
  return received.length === expected.length && crypto.timingSafeEqual(received, expected);
}

/** How long a shop found known is taken as known without asking the database again. */
const KNOWN_SHOP_MS = 60_000;
/** Shops remembered at once, at most (the oldest is forgotten first). */
const MAX_KNOWN_SHOPS = 10_000;
const knownUntil = new Map<string, number>();

/**
 * Whether the app knows the shop, remembered for a minute: a shop stays known until its
 * shop/redact, and the background work asks again before acting (actOnWebhook), so a shop
 * erased meanwhile has its webhook dropped there. Shops found unknown are not remembered: their
 * webhooks take the route, which stores nothing of them (not even on the fast path's table).
 */
async function knownShop(shop: string, now = Date.now()): Promise<boolean> {
  const until = knownUntil.get(shop);
  if (until !== undefined && until > now) return true;
  if (!(await isKnownShop(shop))) return false;
  knownUntil.delete(shop);
  knownUntil.set(shop, now + KNOWN_SHOP_MS);
  if (knownUntil.size > MAX_KNOWN_SHOPS) knownUntil.delete(knownUntil.keys().next().value as string);
  return true;
}

function shopOf(domain: string): string | null {
  try {
    return sanitizeShop(domain, true) ?? null;
  } catch {
    return null;
  }
}

/**
 * The fast path's answer to a webhook of `topic` with these headers and this body: 200 once it
 * is committed, or null when the route must judge the request instead (it gets the same body).
 * 503 when the database cannot take it: Shopify sends it again later.
 */
export async function receiveOnFastPath(topic: OrderWebhookTopic, headers: IncomingHttpHeaders, body: Buffer): Promise<200 | 503 | null> {
  if (body.length === 0 || body.length > MAX_WEBHOOK_BODY_BYTES) return null;
  // The library's other kind of webhook (Shopify's "events" headers) is left to the library.
  if (headers["shopify-hmac-sha256"] !== undefined) return null;
  const signature = header(headers, "x-shopify-hmac-sha256");
  const headerTopic = header(headers, "x-shopify-topic");
  const domain = header(headers, "x-shopify-shop-domain");
  const apiVersion = header(headers, "x-shopify-api-version");
  const webhookId = header(headers, "x-shopify-webhook-id");
  if (!signature || !headerTopic || !domain || !apiVersion || !webhookId) return null;
  // Bytes that are not UTF-8 have no text for the library to sign: the route records them.
  if (!isUtf8(body)) return null;
  if (!signatureMatches(body, signature, env().SHOPIFY_API_SECRET)) return null;
  if (!sameTopic(headerTopic, topic)) return null;
  const shop = shopOf(domain);
  if (!shop || !(await knownShop(shop))) return null;
  try {
    await appendReceivedWebhook({ webhookId, shop, topic, eventId: header(headers, "x-shopify-event-id"), apiVersion, body });
  } catch (error) {
    logger.error("webhook not stored: answered 503 for Shopify to send it again", {
      shop,
      topic,
      webhookId,
      error: error instanceof Error ? error.message : String(error),
    });
    return 503;
  }
  return 200;
}
