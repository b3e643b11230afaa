import type { RefersionConversion } from "./conversion";
import type { CancelJson } from "./order-json";

export interface RefersionKeys {
  publicKey: string;
  secretKey: string;
}

export interface RefersionClientOptions {
  /** Refersion's order webhook (server-side tracking), e.g. .../tracker/orders/paid */
  webhookUrl: string;
  /** Refersion's REST API base, e.g. https://api.refersion.com/v2 */
  apiUrl: string;
  keys: RefersionKeys;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** What Refersion answered to a request that succeeded. */
export interface RefersionReply {
  status: number;
  durationMs: number;
  /** A short excerpt of the body, for the delivery log. */
  excerpt: string;
  body: unknown;
}

export type RefersionFailureKind = "network" | "timeout" | "http" | "error_body";

/**
 * A failed call. `retryable` says whether trying again later can help: network errors,
 * timeouts, 408, 429 and 5xx can; a rejected key or body (400/401/403/404/422) cannot.
 */
export class RefersionError extends Error {
  override name = "RefersionError";
  constructor(
    message: string,
    readonly kind: RefersionFailureKind,
    readonly retryable: boolean,
    readonly durationMs: number,
    readonly status: number | null = null,
    readonly excerpt: string = "",
    /** From Retry-After, when Refersion sent one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

const EXCERPT_LIMIT = 500;

/**
 * How much of an answer is read. Refersion's answers are a few hundred bytes; only an excerpt is
 * kept, and an error reported in the body is near its start. The rest of a larger answer is not
 * read: an endpoint answering without end cannot make the worker hold it all.
 */
export const ANSWER_READ_LIMIT = 64 * 1024;

/** The answer's first `limit` bytes as text; the rest is left unread and the stream cancelled. */
async function readAnswer(response: Response, limit: number): Promise<{ text: string; complete: boolean }> {
  if (!response.body) return { text: "", complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, Math.max(0, limit - size)));
    size += value.byteLength;
    if (size >= limit) {
      complete = size === limit && (await reader.read()).done;
      if (!complete) await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return { text: Buffer.concat(chunks).toString("utf8"), complete };
}
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 410, 413, 415, 422]);

export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 425 || status === 429) return true;
  if (status >= 500) return true;
  if (PERMANENT_STATUSES.has(status)) return false;
  // Other 4xx: the request itself is wrong; repeating it will not help.
  return false;
}

/** Retry-After as milliseconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * Whether a 2xx body nevertheless reports an error. Refersion's API has been seen answering
 * 204 or 200 with `{"error": ...}` / `{"errors": [...]}` for requests it did not accept.
 */
export function bodyReportsError(body: unknown): boolean {
  if (!body || typeof body !== "object") return false;
  const record = body as Record<string, unknown>;
  if (typeof record.error === "string" && record.error.length > 0) return true;
  if (record.error === true) return true;
  if (Array.isArray(record.errors) && record.errors.length > 0) return true;
  if (record.errors && typeof record.errors === "object" && Object.keys(record.errors).length > 0) return true;
  if (record.success === false || record.status === "error") return true;
  return false;
}

function excerptOf(text: string, secrets: string[]): string {
  // Never store a key, even if a misbehaving endpoint echoes our headers back. Masked before
  // the cut, so a key straddling the limit cannot be stored in part.
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("[redacted]");
  return out.length > EXCERPT_LIMIT ? `${out.slice(0, EXCERPT_LIMIT)}…` : out;
}

function parseBody(text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The one client for everything this app sends to Refersion. */
export function createRefersionClient(options: RefersionClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const secrets = [options.keys.secretKey];

  async function post(url: string, body: unknown): Promise<RefersionReply> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const signal = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    let text: string;
    let complete: boolean;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Refersion-Public-Key": options.keys.publicKey,
          "Refersion-Secret-Key": options.keys.secretKey,
        },
        body: JSON.stringify(body),
        signal,
        // A redirect is answered as it is (a permanent failure naming its status), never
        // followed: following would repeat the secret key header to wherever it points.
        redirect: "manual",
      });
      ({ text, complete } = await readAnswer(response, ANSWER_READ_LIMIT));
    } catch (error) {
      const timedOut = signal.aborted;
      const reason = error instanceof Error ? error.message : String(error);
      throw new RefersionError(
        timedOut ? `No answer from Refersion within ${options.timeoutMs} ms` : `Could not reach Refersion: ${excerptOf(reason, secrets)}`,
        timedOut ? "timeout" : "network",
        true,
        elapsed(),
      );
    }
    const durationMs = elapsed();
    const excerpt = excerptOf(text, secrets);
    // A cut answer is kept as text: its JSON cannot be read whole.
    const parsed = complete ? parseBody(text) : text;
    if (response.status >= 200 && response.status < 300) {
      if (bodyReportsError(parsed)) {
        throw new RefersionError(
          `Refersion answered ${response.status} with an error in the body`,
          "error_body",
          false,
          durationMs,
          response.status,
          excerpt,
        );
      }
      return { status: response.status, durationMs, excerpt, body: parsed };
    }
    const retryable = isRetryableStatus(response.status);
    throw new RefersionError(
      `Refersion answered ${response.status}`,
      "http",
      retryable,
      durationMs,
      response.status,
      excerpt,
      retryable ? parseRetryAfter(response.headers.get("retry-after")) : null,
    );
  }

  const apiBase = options.apiUrl.replace(/\/+$/, "");
  return {
    /** Reports an order (server-side tracking, step 3). */
    sendOrder: (conversion: RefersionConversion) => post(options.webhookUrl, conversion),
    /** A cheap authenticated REST call, used to check that the keys are accepted. */
    listAffiliates: () => post(`${apiBase}/affiliate/list`, { limit: "1" }),
    /** Reverses all or part of a conversion. */
    cancelConversion: (body: CancelJson) => post(`${apiBase}/conversion/cancel`, body),
  };
}

export type RefersionClient = ReturnType<typeof createRefersionClient>;
