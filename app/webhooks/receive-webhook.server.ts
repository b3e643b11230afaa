import { InvalidShopError } from "@shopify/shopify-api";
import { parseOrderJson } from "../refersion/shopify-order";
import { authenticate } from "../shopify.server";

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

export type VerifiedWebhook = Awaited<ReturnType<typeof authenticate.webhook>>;

/** A correctly signed webhook whose body is not JSON: Shopify vouched for it, but it cannot be read. */
export interface UnreadableWebhook {
  unreadable: true;
  shop: string;
  topic: string;
  webhookId: string | null;
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

/** Reads a body without a Content-Length, keeping nothing once it passes the limit. */
async function readLimited(request: Request): Promise<string> {
  if (!request.body) return "";
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
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Verifies a Shopify webhook with the library (forged -> 401, missing headers -> 400,
 * not POST -> 405, each with its reason) after refusing oversized bodies with 413 before
 * anything is parsed. A signed body that is not JSON, or nested deeper than any Shopify payload,
 * comes back as UnreadableWebhook instead of a 500, so it is recorded and acknowledged: Shopify
 * would only send the same bytes again.
 */
export async function receiveWebhook(request: Request): Promise<VerifiedWebhook | UnreadableWebhook> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_WEBHOOK_BODY_BYTES) {
    if (request.body && Number(declared) <= MAX_DISCARDED_BYTES) await discardRest(request.body.getReader(), 0);
    throw tooLarge();
  }
  if (declared === null && request.method === "POST") {
    // No declared length: read within the limit, then hand the library an equivalent request.
    const text = await readLimited(request);
    request = new Request(request.url, { method: "POST", headers: request.headers, body: text });
  }
  // Kept only to excerpt a body the library could verify but not parse.
  const copy = request.method === "POST" ? request.clone() : null;
  try {
    const webhook = await authenticate.webhook(request);
    if (copy && nestedDeeperThan(webhook.payload, MAX_WEBHOOK_JSON_DEPTH)) {
      return unreadable(request, await copy.text(), `Shopify sent JSON nested deeper than ${MAX_WEBHOOK_JSON_DEPTH} levels`);
    }
    if (copy && hasInexactId(webhook.payload)) {
      // JSON.parse rounded an id beyond 2^53 (Shopify's test notifications use such ids):
      // read the same verified bytes again, keeping such integers as exact strings.
      return { ...webhook, payload: parseOrderJson(await copy.text()) as Record<string, unknown> };
    }
    return webhook;
  } catch (error) {
    // The library answers with an empty body; the sender learns why (the status is the library's).
    if (error instanceof Response && error.body === null && REFUSAL_REASONS[error.status]) {
      throw refused(error.status, error.status === 405 ? { Allow: "POST" } : undefined);
    }
    // A signed request whose X-Shopify-Shop-Domain is not a shop domain (checked after the HMAC).
    if (error instanceof InvalidShopError) {
      throw new Response("X-Shopify-Shop-Domain is not a valid shop domain", { status: 400 });
    }
    if (!(error instanceof SyntaxError) || !copy) throw error;
    // The library parses only after the HMAC check passed, so these headers are Shopify's.
    return unreadable(request, await copy.text(), `Shopify sent a body that is not valid JSON (${error.message})`);
  }
}

function unreadable(request: Request, text: string, reason: string): UnreadableWebhook {
  return {
    unreadable: true,
    shop: request.headers.get("x-shopify-shop-domain") ?? "unknown",
    topic: request.headers.get("x-shopify-topic") ?? "unknown",
    webhookId: request.headers.get("x-shopify-webhook-id"),
    rawExcerpt: text.slice(0, 2_000),
    reason,
  };
}

/** Without recursion, so that the check itself cannot overflow the stack. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
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

function hasInexactId(payload: unknown): boolean {
  const id = payload && typeof payload === "object" ? (payload as { id?: unknown }).id : undefined;
  return typeof id === "number" && !Number.isSafeInteger(id);
}

export function isUnreadable(webhook: VerifiedWebhook | UnreadableWebhook): webhook is UnreadableWebhook {
  return "unreadable" in webhook;
}
