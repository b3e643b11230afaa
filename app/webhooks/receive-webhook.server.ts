import crypto from "node:crypto";
import { InvalidShopError, WebhookValidationErrorReason } from "@shopify/shopify-api";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { parseOrderJson } from "../refersion/shopify-order";
import { sanitizeShop, validateWebhook } from "../shopify.server";

/** Larger than any order Shopify sends (250 lines), far below what could hurt the process. */
export const MAX_WEBHOOK_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Shopify's payloads nest about six levels. Deeper JSON is treated as unreadable: code that
 * walks a payload recursively (JSON.stringify of the stored order among it) would otherwise
 * overflow the stack and answer 500, and Shopify would send the same bytes again for hours.
 */
export const MAX_WEBHOOK_JSON_DEPTH = 64;

/** How much of an oversized body is read (and thrown away) before the connection is dropped. */
const MAX_DISCARDED_BYTES = 32 * 1024 * 1024;

/** Why the library refused a request (its own responses carry no body). */
const REFUSAL_REASONS: Record<number, string> = {
  400: "Not a Shopify webhook: the body, or a required X-Shopify-* header (topic, shop domain, HMAC, API version, webhook id), is missing",
  401: "The X-Shopify-Hmac-Sha256 signature does not match the body: not sent by Shopify for this app",
  405: "Webhooks are POST requests",
};

function refused(status: number, headers: Record<string, string> = {}): Response {
  return new Response(REFUSAL_REASONS[status], { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers } });
}

/**
 * A webhook Shopify signed for this app, with its JSON body: any JSON value, checked by each
 * topic's handler (a payload that is not an order is recorded as such, with the reason).
 */
export interface VerifiedWebhook {
  shop: string;
  topic: string;
  webhookId: string;
  /** X-Shopify-Event-Id, when Shopify sent one. */
  eventId: string | null;
  apiVersion: string;
  payload: unknown;
}

/** A correctly signed webhook whose body is not JSON: Shopify vouched for it, but it cannot be read. */
export interface UnreadableWebhook {
  unreadable: true;
  shop: string;
  topic: string;
  webhookId: string | null;
  eventId: string | null;
  rawExcerpt: string;
  reason: string;
}

function tooLarge(): Response {
  return new Response(`Webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes`, { status: 413 });
}

/**
 * Reads and drops the rest of a refused body, so that the sender receives the 413 instead of a
 * connection closed while it is still sending; past MAX_DISCARDED_BYTES the connection is dropped.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  for (let total = alreadyRead; total <= MAX_DISCARDED_BYTES; ) {
    const next = await reader.read();
    if (next.done) return;
    total += next.value.byteLength;
  }
  await reader.cancel();
}

/** Reads a body, keeping nothing once it passes the limit. */
async function readLimited(request: Request): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_WEBHOOK_BODY_BYTES) {
      await discardRest(reader, size);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Topics as Shopify spells them in the header ("ORDERS_CREATE") or in a URL ("orders/create"). */
export function sameTopic(a: string, b: string): boolean {
  const normal = (topic: string) => topic.trim().toLowerCase().replace(/_/g, "/");
  return normal(a) === normal(b);
}

/**
 * Shopify's signature covers the body only: a signed body of another topic, sent here with this
 * route's X-Shopify-Topic or another, must not reach this route's effect. Refused before anything.
 */
function refuseOtherTopic(received: string, expected: string, shop: string | null): never {
  logger.warn("webhook refused: topic of another route", { expected, received, shop });
  throw new Response(`X-Shopify-Topic ${received} is not this route's topic (${expected})`, {
    status: 400,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}

/** The signature of the exact bytes received, for a body the library cannot take as text. */
function signedByShopify(request: Request, bytes: Buffer): boolean {
  const header = request.headers.get("X-Shopify-Hmac-Sha256");
  if (!header) return false;
  const expected = crypto.createHmac("sha256", env().SHOPIFY_API_SECRET).update(bytes).digest();
  const received = Buffer.from(header, "base64");
  return received.length === expected.length && crypto.timingSafeEqual(received, expected);
}

function shopOf(domain: string | null): string {
  try {
    const shop = domain ? sanitizeShop(domain, true) : null;
    if (shop) return shop;
  } catch (error) {
    if (!(error instanceof InvalidShopError)) throw error;
  }
  throw new Response("X-Shopify-Shop-Domain is not a valid shop domain", { status: 400 });
}

/**
 * A body that is not UTF-8 cannot be handed to the library as text (it would sign the replaced
 * characters, and a body Shopify signed would look forged): its signature is checked over the
 * raw bytes here, and a signed one is malformed, not forged.
 */
function receiveUndecodable(request: Request, bytes: Buffer, expectedTopic: string): UnreadableWebhook {
  if (!signedByShopify(request, bytes)) throw refused(401);
  const topic = request.headers.get("X-Shopify-Topic");
  const webhookId = request.headers.get("X-Shopify-Webhook-Id");
  if (!topic || !webhookId || !request.headers.get("X-Shopify-API-Version")) throw refused(400);
  const shop = shopOf(request.headers.get("X-Shopify-Shop-Domain"));
  if (!sameTopic(topic, expectedTopic)) refuseOtherTopic(topic, expectedTopic, shop);
  return {
    unreadable: true,
    shop,
    topic,
    webhookId,
    eventId: request.headers.get("X-Shopify-Event-Id"),
    rawExcerpt: bytes.subarray(0, 2_000).toString("latin1"),
    reason: "Shopify sent a body that is not valid UTF-8",
  };
}

/**
 * Verifies a Shopify webhook with Shopify's library (forged -> 401, missing headers -> 400,
 * not POST -> 405, each with its reason) after refusing oversized bodies with 413 before
 * anything is parsed. The body is read once: the library checks the HMAC of those bytes and the
 * same bytes are parsed here. A signed body that is not JSON, or nested deeper than any Shopify
 * payload, comes back as UnreadableWebhook instead of a 500, so it is recorded and acknowledged:
 * Shopify would only send the same bytes again.
 */
export async function receiveWebhook(request: Request, expectedTopic: string): Promise<VerifiedWebhook | UnreadableWebhook> {
  if (request.method !== "POST") throw refused(405, { Allow: "POST" });
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_WEBHOOK_BODY_BYTES) {
    if (request.body && Number(declared) <= MAX_DISCARDED_BYTES) await discardRest(request.body.getReader(), 0);
    throw tooLarge();
  }
  const bytes = await readLimited(request);
  let rawBody: string;
  try {
    // ignoreBOM keeps a leading byte-order mark in the text, so the library signs the bytes as sent.
    rawBody = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return receiveUndecodable(request, bytes, expectedTopic);
  }
  const check = await validateWebhook({ rawBody, rawRequest: request });
  if (!check.valid) {
    throw refused(check.reason === WebhookValidationErrorReason.InvalidHmac ? 401 : 400);
  }
  // Checked after the HMAC: a signed request whose X-Shopify-Shop-Domain is not a shop domain.
  const shop = shopOf(check.domain);
  if (!sameTopic(check.topic, expectedTopic)) refuseOtherTopic(check.topic, expectedTopic, shop);
  const verified = {
    shop,
    topic: check.topic,
    webhookId: check.webhookId,
    eventId: request.headers.get("X-Shopify-Event-Id"),
    apiVersion: check.apiVersion,
  };
  return withBody(verified, rawBody);
}

/**
 * A verified webhook with its body read: JSON within MAX_WEBHOOK_JSON_DEPTH, an id beyond 2^53
 * kept exact; otherwise unreadable, with the reason. The route reads bodies with it, and the
 * background work reads those the fast path appended unread (received-webhooks.server.ts).
 */
export function withBody(verified: Omit<VerifiedWebhook, "payload">, rawBody: string): VerifiedWebhook | UnreadableWebhook {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch (error) {
    // The HMAC matched, so the shop and webhook id the library read from the headers are Shopify's.
    return unreadable(verified, rawBody, `Shopify sent a body that is not valid JSON (${(error as Error).message})`);
  }
  if (nestedDeeperThan(payload, MAX_WEBHOOK_JSON_DEPTH)) {
    return unreadable(verified, rawBody, `Shopify sent JSON nested deeper than ${MAX_WEBHOOK_JSON_DEPTH} levels`);
  }
  if (hasInexactId(payload)) {
    // JSON.parse rounded an id beyond 2^53 (Shopify's test notifications use such ids):
    // read the same verified bytes again, keeping such integers as exact strings.
    payload = parseOrderJson(rawBody);
  }
  return { ...verified, payload };
}

function unreadable(verified: Omit<VerifiedWebhook, "payload">, text: string, reason: string): UnreadableWebhook {
  return {
    unreadable: true,
    shop: verified.shop,
    topic: verified.topic,
    webhookId: verified.webhookId,
    eventId: verified.eventId,
    rawExcerpt: text.slice(0, 2_000),
    reason,
  };
}

/** Without recursion, so that the check itself cannot overflow the stack. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The loader of every webhook route: only POST is a webhook. */
export async function rejectNonPostWebhook(): Promise<Response> {
  return refused(405, { Allow: "POST" });
}

export function hasInexactId(payload: unknown): boolean {
  const id = payload && typeof payload === "object" ? (payload as { id?: unknown }).id : undefined;
  return typeof id === "number" && !Number.isSafeInteger(id);
}

export function isUnreadable(webhook: VerifiedWebhook | UnreadableWebhook): webhook is UnreadableWebhook {
  return "unreadable" in webhook;
}
