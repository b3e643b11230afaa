import { MAX_CONVERSION_BODY_BYTES } from "./conversions/receive.server";
import { RECEIVER_PATH_PREFIX } from "./conversions/receiver.server";
import { CLICK_REPORT_MAX_BYTES, PIXEL_REPORT_PATH } from "./attribution/click-report";
import { MAX_WEBHOOK_BODY_BYTES } from "./webhooks/receive-webhook.server";

/**
 * How much of a request body the web server (server/app-server.mjs) reads before the app sees
 * it. Every body is read whole before any route runs, so these are the memory a request can hold.
 */
export interface BodyLimit {
  bytes: number;
  /** The 413's text. */
  message: string;
  /** Headers of the refusals (413, 503), for callers that read them only with these (CORS). */
  headers?: Record<string, string>;
}

/** The login form carries a shop domain. */
const LOGIN_FORM_BYTES = 16 * 1024;
/** The admin's forms: settings, retries, a resend's dates, the privacy page's searches. */
const ADMIN_FORM_BYTES = 256 * 1024;
/** Everything else takes no body worth reading (a loader-only page, /healthz, /auth/*): room for a route to say so itself. */
const OTHER_BYTES = 256 * 1024;

/**
 * Bodies of all requests in flight together, at most. Past it a request is answered 503 with
 * Retry-After instead of being read: 300 slow uploads of a webhook-sized body would otherwise
 * hold 300 times the webhook limit. Far above what Shopify's webhooks and the admin need at once.
 */
export const IN_FLIGHT_BODY_BYTES = 64 * 1024 * 1024;

/** Seconds a refused request is asked to wait; Shopify retries a webhook on its own schedule. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

export function bodyLimitFor(path: string): BodyLimit {
  if (path.startsWith("/webhooks/")) {
    return { bytes: MAX_WEBHOOK_BODY_BYTES, message: `Webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes` };
  }
  if (path.startsWith(RECEIVER_PATH_PREFIX)) {
    return { bytes: MAX_CONVERSION_BODY_BYTES, message: `Conversion webhook bodies are limited to ${MAX_CONVERSION_BODY_BYTES} bytes` };
  }
  // The checkout pixel's reports: anyone can post one, and the pixel's own is under 600 bytes.
  // A browser shows the pixel's sandbox no answer without Access-Control-Allow-Origin, its 413 included.
  if (path === PIXEL_REPORT_PATH) {
    return { bytes: CLICK_REPORT_MAX_BYTES, message: `Checkout reports are limited to ${CLICK_REPORT_MAX_BYTES} bytes`, headers: { "Access-Control-Allow-Origin": "*" } };
  }
  const bytes = path === "/auth/login" ? LOGIN_FORM_BYTES : path === "/app" || path.startsWith("/app/") ? ADMIN_FORM_BYTES : OTHER_BYTES;
  return { bytes, message: `Request bodies here are limited to ${bytes} bytes` };
}

/**
 * Requests the server never holds in the admin's queue (ADMIN_REQUESTS_IN_FLIGHT): those of
 * machines, which give up or retry on their own schedule (Shopify's webhooks after 5 s,
 * Refersion's conversion webhooks, the checkout pixel's reports), and the health check (an
 * orchestrator would take a busy admin for a dead server). Their body limits still apply.
 */
export function skipsAdminQueue(path: string): boolean {
  return path.startsWith("/webhooks/") || path === "/healthz" || path === PIXEL_REPORT_PATH || path.startsWith(RECEIVER_PATH_PREFIX);
}

/** A path as the access log writes it: the conversion receiver's token (a secret) masked. */
export function loggedPath(path: string): string {
  return path.startsWith(RECEIVER_PATH_PREFIX) ? `${RECEIVER_PATH_PREFIX}<token>` : path;
}
