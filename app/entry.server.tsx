import { PassThrough } from "node:stream";
import { renderToPipeableStream } from "react-dom/server";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { createReadableStreamFromReadable, type ActionFunctionArgs, type EntryContext, type LoaderFunctionArgs } from "@remix-run/node";
import { isbot } from "isbot";
import { addDocumentResponseHeaders, verifiedSessionTokenShop } from "./shopify.server";
import { env } from "./env.server";
import { logger } from "./logger.server";
import { loggedPath } from "./body-limits.server";

// The whole environment is checked when the server or the worker starts, so a missing variable
// stops it with its name (modules shared with the `shop` commands parse only the part they use).
env();

// Importing the build starts nothing in the background: server/app-server.mjs (`npm start`, and
// `npm run dev` through `remix dev -c`) and server/worker.mjs (`npm run worker`) start delivery,
// backfill and maintenance with startBackgroundWork() and stop them with stopBackgroundWork().
export {
  backgroundWorkWanted,
  reportBackgroundThread,
  runningDeliveryWorker,
  startBackgroundWork,
  stopBackgroundWork,
} from "./background/background-work.server";
// The background thread yields the CPU to the web server's thread (server/background-thread.mjs).
export { lowerThisThreadsCpuPriority } from "./background/thread-priority.server";
export { refuseSqliteSharedBetweenProcesses } from "./database/single-process-sqlite.server";
// The SQLite connections of the server's threads take turns to write (server/background-thread.mjs).
export { createWriteTurns, shareWriteTurns } from "./database/sqlite-adapter";
// The fast path's appends run in a writer thread of their own (server/append-thread.mjs).
export { appendThreadOptions, appendThroughThread } from "./db.server";
// What that thread runs, exported so that the server build holds it: its bundle is accepted only
// beside the server build it was built with (by hash), so a change to it must change this build.
export { serveAppends } from "./database/append-thread";
export { BUSY_RETRY_AFTER_SECONDS, IN_FLIGHT_BODY_BYTES, bodyLimitFor, skipsAdminQueue } from "./body-limits.server";
// The order webhooks' fast path, which server/app-server.mjs serves ahead of Express and Remix.
export { FAST_INTAKE_BODY_BYTES, fastIntakeTopic, receiveOnFastPath } from "./webhooks/fast-intake.server";

/**
 * Admin requests (pages, their data, forms) the server lets run in Remix at once; the others wait
 * for their turn before their body is read. Machines' requests and the health check are not held
 * (skipsAdminQueue). Rendering a page is one long synchronous task, and the admin's queries share this thread's database connection with
 * the webhooks' appends: with several admin requests in flight, a webhook waited behind all of
 * them. Measured beside 50 page loads and 100 webhooks/s (docs/performance.md): one at a time kept
 * the webhooks' p99 near 250 ms, two or more let it reach seconds.
 */
export const ADMIN_REQUESTS_IN_FLIGHT = 1;

/** Where `npm start` (server/app-server.mjs) listens: PORT and HOST as parsed at start-up. */
export function listenAddress(): { port: number; host: string } {
  const config = env();
  return { port: config.PORT, host: config.HOST };
}

/** The access log of `npm start`: one JSON line per request, the path without its query or a receiver's token. */
export function logRequest(fields: { method: string; path: string; status: number; durationMs: number }) {
  logger.info("request", { ...fields, path: loggedPath(fields.path), durationMs: Math.round(fields.durationMs * 10) / 10 });
}

/** A body the web server refused before the app saw it (too large, or too much in flight at once). */
export function logRefusedBody(fields: { method: string; path: string; status: number }) {
  logger.warn("request body refused", { ...fields, path: loggedPath(fields.path) });
}

const ABORT_DELAY = 5000;

export default async function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
) {
  await addFramingHeaders(request, responseHeaders);
  const userAgent = request.headers.get("user-agent");
  const callbackName = isbot(userAgent ?? "") ? "onAllReady" : "onShellReady";

  return new Promise((resolve, reject) => {
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} />,
      {
        [callbackName]: () => {
          const body = new PassThrough();
          const stream = createReadableStreamFromReadable(body);
          responseHeaders.set("Content-Type", "text/html");
          resolve(new Response(stream, { headers: responseHeaders, status: responseStatusCode }));
          pipe(body);
        },
        onShellError(error) {
          reject(error);
        },
        onError(error) {
          responseStatusCode = 500;
          logFailure("rendering failed", request, error);
        },
      },
    );
    setTimeout(abort, ABORT_DELAY);
  });
}

/**
 * The library's document headers (frame-ancestors among them) name the shop of the request's
 * `shop` query, which anyone can write: they get the shop of the verified session token instead,
 * and no shop at all without one (Shopify's admin alone may frame the page then).
 */
async function addFramingHeaders(request: Request, responseHeaders: Headers) {
  const url = new URL(request.url);
  const shop = await verifiedSessionTokenShop(request);
  url.searchParams.delete("shop");
  if (shop) url.searchParams.set("shop", shop);
  addDocumentResponseHeaders(new Request(url, { headers: request.headers }), responseHeaders);
}

/**
 * Errors thrown by loaders and actions go to the app's JSON log (which masks every registered
 * secret) with the path only: query strings carry session tokens and OAuth codes.
 */
export function handleError(error: unknown, { request }: LoaderFunctionArgs | ActionFunctionArgs) {
  // The client went away, or asked for something that is not there (Remix's own 404 / 405):
  // nothing failed on our side.
  if (request.signal.aborted) return;
  if (isRouteErrorResponse(error) && error.status < 500) return;
  if (isLegacyDataRequestWarning(request, error)) {
    // Remix reports every `?_data=` request this way (the app's pages use single fetch's `.data`
    // URLs): whoever sent it gets the route's own answer (401 without a session token); it is
    // noted, not logged as a failure with a stack trace.
    logger.warn("legacy ?_data request", { method: request.method, path: new URL(request.url).pathname });
    return;
  }
  logFailure("request failed", request, error);
}

// Remix gives this warning no code or error class, only its text, so the text is matched: the one
// place where the app reads a message to decide what to do. A Remix upgrade that rewords it only
// turns the warning back into a logged failure.
function isLegacyDataRequestWarning(request: Request, error: unknown): boolean {
  return new URL(request.url).searchParams.has("_data") && error instanceof Error && error.message.startsWith("Warning: Single fetch-enabled apps should not be making ?_data requests");
}

function logFailure(message: string, request: Request, error: unknown) {
  logger.error(message, {
    method: request.method,
    path: new URL(request.url).pathname,
    error: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
}
