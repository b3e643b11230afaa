import { parseOrderJson } from "../refersion/shopify-order";
import { authenticate } from "../shopify.server";

/** Larger than any order Shopify sends (250 lines), far below what could hurt the process. */
export const MAX_WEBHOOK_BODY_BYTES = 2 * 1024 * 1024;

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

/** Reads a body without a Content-Length, stopping as soon as it passes the limit. */
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
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Verifies a Shopify webhook with the library (forged -> 401, missing headers -> 400,
 * not POST -> 405) after refusing oversized bodies with 413 before anything is parsed.
 * A signed body that is not JSON comes back as UnreadableWebhook instead of a 500, so it is
 * recorded and acknowledged: Shopify would only send the same bytes again.
 */
export async function receiveWebhook(request: Request): Promise<VerifiedWebhook | UnreadableWebhook> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_WEBHOOK_BODY_BYTES) throw tooLarge();
  if (declared === null && request.method === "POST") {
    // No declared length: read within the limit, then hand the library an equivalent request.
    const text = await readLimited(request);
    request = new Request(request.url, { method: "POST", headers: request.headers, body: text });
  }
  // Kept only to excerpt a body the library could verify but not parse.
  const copy = request.method === "POST" ? request.clone() : null;
  try {
    const webhook = await authenticate.webhook(request);
    if (copy && hasInexactId(webhook.payload)) {
      // JSON.parse rounded an id beyond 2^53 (Shopify's test notifications use such ids):
      // read the same verified bytes again, keeping such integers as exact strings.
      return { ...webhook, payload: parseOrderJson(await copy.text()) as Record<string, unknown> };
    }
    return webhook;
  } catch (error) {
    if (!(error instanceof SyntaxError) || !copy) throw error;
    // The library parses only after the HMAC check passed, so these headers are Shopify's.
    const text = await copy.text();
    return {
      unreadable: true,
      shop: request.headers.get("x-shopify-shop-domain") ?? "unknown",
      topic: request.headers.get("x-shopify-topic") ?? "unknown",
      webhookId: request.headers.get("x-shopify-webhook-id"),
      rawExcerpt: text.slice(0, 2_000),
      reason: `Shopify sent a body that is not valid JSON (${error.message})`,
    };
  }
}

function hasInexactId(payload: unknown): boolean {
  const id = payload && typeof payload === "object" ? (payload as { id?: unknown }).id : undefined;
  return typeof id === "number" && !Number.isSafeInteger(id);
}

export function isUnreadable(webhook: VerifiedWebhook | UnreadableWebhook): webhook is UnreadableWebhook {
  return "unreadable" in webhook;
}
