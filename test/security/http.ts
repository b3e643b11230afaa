import http from "node:http";
import { webhookHeaders, type WebhookRequestOptions } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

export interface RawReply {
  /** -1 when no answer came (the error says why). */
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  error?: string;
  ms: number;
}

/**
 * One HTTP request with full control over how the body goes out: with a Content-Length, or
 * chunked without one (Transfer-Encoding: chunked). Never rejects; bounded by timeoutMs.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; chunked?: boolean; timeoutMs?: number } = {},
): Promise<RawReply> {
  const started = performance.now();
  const body = options.body === undefined ? null : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
  const headers: Record<string, string> = { ...options.headers };
  for (const name of Object.keys(headers)) if (name.toLowerCase() === "content-length") delete headers[name];
  if (body && options.chunked) headers["Transfer-Encoding"] = "chunked";
  else if (body) headers["Content-Length"] = String(body.length);
  return new Promise((resolve) => {
    const done = (reply: Omit<RawReply, "ms">) => resolve({ ...reply, ms: performance.now() - started });
    const request = http.request(url, { method: options.method ?? "POST", headers, agent: false, timeout: options.timeoutMs ?? 20_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => done({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", (error) => done({ status: response.statusCode ?? -1, headers: response.headers, text: "", error: error.message }));
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", (error) => done({ status: -1, headers: {}, text: "", error: error.message }));
    if (body && options.chunked) {
      for (let offset = 0; offset < body.length; offset += 64 * 1024) request.write(body.subarray(offset, offset + 64 * 1024));
      request.end();
    } else {
      request.end(body ?? undefined);
    }
  });
}

/** A webhook signed as Shopify signs it (or forged / stripped, per options), sent over HTTP. */
export function sendWebhook(
  appUrl: string,
  options: Omit<WebhookRequestOptions, "secret" | "body"> & { body: string | Buffer; chunked?: boolean; headers?: Record<string, string> },
): Promise<RawReply> {
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
  const headers = {
    ...webhookHeaders({ ...options, body: body.toString("utf8"), secret: TEST_ENV.SHOPIFY_API_SECRET }),
    ...options.headers,
  };
  return rawRequest(`${appUrl}/webhooks/${options.topic}`, { method: options.method ?? "POST", headers, body, chunked: options.chunked });
}

/** Polls until `check` returns a value (not undefined/false), or throws after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
