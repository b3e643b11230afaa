/**
 * Request bodies, read by the web server before the app sees them, within two bounds:
 *  - each route's limit (bodyLimitFor, app/body-limits.server.ts): past it the answer is 413;
 *  - the bytes held by all requests in flight together (IN_FLIGHT_BODY_BYTES): past it the answer
 *    is 503 with Retry-After, before more is read. A declared Content-Length is reserved whole up
 *    front (a slow sender holds its share from the start); a chunked body reserves as it arrives.
 * A refused body is read to its end and dropped, so that the sender gets the answer instead of a
 * connection reset while it is still sending; past DISCARD_LIMIT_BYTES the connection is closed.
 */
import { createRemixRequest, sendRemixResponse } from "@remix-run/express/dist/server.js";

/** What is read and dropped after a refusal before the connection is closed instead. */
const DISCARD_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The path Remix routes the request on. Express's `request.path` is the raw one: with
 * dot-segments (`/webhooks/../auth/login`, `/webhooks/%2e%2e/auth/login`) it names another route
 * than the one that reads the body, and would give that body another route's limit. Remix's
 * Express adapter makes its URL from `originalUrl` after a scheme and host, which resolves them;
 * the same is done here.
 */
export function routedPath(request) {
  try {
    return new URL(`http://routed.invalid${request.originalUrl ?? request.url}`).pathname;
  } catch {
    return request.path ?? "/";
  }
}

export function createBodyReader({ bodyLimitFor, budgetBytes, retryAfterSeconds, onRefused }) {
  let inFlight = 0;

  function readBody(request, response, next) {
    // Read already (by the webhooks' fast path, which then handed the request on).
    if (request.bufferedBody !== undefined) return next();
    if (request.method === "GET" || request.method === "HEAD") return next();
    const limit = bodyLimitFor(routedPath(request));
    let reserved = 0;
    const release = () => {
      inFlight -= reserved;
      reserved = 0;
    };
    response.once("close", release);
    const reserve = (bytes) => {
      if (inFlight + bytes > budgetBytes) return false;
      inFlight += bytes;
      reserved += bytes;
      return true;
    };

    let refusal = null;
    let received = 0;
    const chunks = [];
    const refuse = (status, text, headers = {}) => {
      refusal = { status, text, headers };
      chunks.length = 0;
      release();
      onRefused({ method: request.method, path: request.path ?? routedPath(request), status });
    };
    const answerRefusal = () => {
      // node:http's own calls: the webhooks' fast path answers without Express.
      response.writeHead(refusal.status, { "Content-Type": "text/plain; charset=utf-8", Connection: "close", ...refusal.headers }).end(refusal.text);
    };
    const tooLarge = () => refuse(413, limit.message, limit.headers);
    const busy = () => refuse(503, "The server is receiving too much at once; try again shortly", { ...limit.headers, "Retry-After": String(retryAfterSeconds) });

    const declared = request.headers["content-length"] === undefined ? null : Number(request.headers["content-length"]);
    if (declared !== null && declared > limit.bytes) tooLarge();
    else if (declared !== null && !reserve(declared)) busy();

    request.on("data", (chunk) => {
      received += chunk.length;
      if (refusal) {
        if (received > DISCARD_LIMIT_BYTES) {
          answerRefusal();
          request.destroy();
        }
        return;
      }
      if (received > limit.bytes) return tooLarge();
      if (received > reserved && !reserve(received - reserved)) return busy();
      chunks.push(chunk);
    });
    request.once("end", () => {
      if (refusal) return answerRefusal();
      request.bufferedBody = Buffer.concat(chunks);
      chunks.length = 0;
      next();
    });
    request.once("error", (error) => next(error));
  }

  return { readBody, bytesInFlight: () => inFlight };
}

/**
 * Remix's Express handler, given the body read above instead of the request stream (which that
 * reading has consumed). Everything else is Remix's own: the URL, headers, abort signal, answer.
 */
export function createBufferedRequestHandler({ build, mode, createRequestHandler }) {
  const handle = createRequestHandler(build, mode);
  return async (request, response, next) => {
    try {
      const streamed = createRemixRequest(request, response);
      const remixRequest = request.bufferedBody === undefined ? streamed : new Request(streamed, { body: request.bufferedBody, duplex: "half" });
      await sendRemixResponse(response, await handle(remixRequest, {}));
    } catch (error) {
      next(error);
    }
  };
}

/**
 * At most `limit` requests at once past this point; the others wait, in arrival order, before
 * their body is read. A request's turn ends when its answer is finished or its connection closes.
 */
export function createAdmission(limit) {
  let running = 0;
  const queue = [];
  const release = () => {
    running -= 1;
    const nextInLine = queue.shift();
    if (nextInLine) nextInLine();
  };
  return function admit(request, response, next) {
    const start = () => {
      running += 1;
      response.once("close", release);
      next();
    };
    if (running < limit) return start();
    const waiting = () => {
      if (!response.destroyed) return start();
      // Its client gave up while it waited: the turn goes to the next one.
      const nextInLine = queue.shift();
      if (nextInLine) nextInLine();
    };
    queue.push(waiting);
  };
}
