/**
 * A local stand-in for Refersion, for tests, the demo and the benchmark.
 *
 * It answers the three calls the app makes (see app/refersion/client.server.ts):
 *   POST /tracker/orders/paid      the order webhook of server-side tracking (step 3 of the guide)
 *   POST /v2/affiliate/list        the REST call used to check keys
 *   POST /v2/conversion/cancel     reverses a conversion
 * and, once told where (setConversionWebhooks, POST /__sandbox/conversion-webhooks), sends the
 * merchant's signed conversion webhooks for the orders it accepts, by plan
 * (scripts/refersion-conversions.ts).
 * It checks them the way a careful receiver would (headers, keys, and the bodies against the
 * app's own contract of Refersion's JSON, app/refersion/order-json.ts: the order strictly) and
 * can be told to misbehave (fail, hang, throttle, ...) so the app's retry and error handling can
 * be exercised. Other processes drive it over HTTP under /__sandbox/.
 *
 * Keys: unless others are given, the sandbox accepts DEFAULT_SANDBOX_KEYS. They are test values,
 * never real keys. The secret key is compared and then forgotten: it is never stored in
 * `received`, never written into a response and never logged.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { CancelJsonSchema, OrderJsonSchema } from "../app/refersion/order-json";
import { createConversionSender, ConversionWebhooksSchema, type ConversionSender, type ConversionWebhooksConfig } from "./refersion-conversions";

export interface SandboxKeys {
  publicKey: string;
  secretKey: string;
}

/** The keys the sandbox accepts when none are given (also the CLI's defaults). Test values only. */
export const DEFAULT_SANDBOX_KEYS: Readonly<SandboxKeys> = Object.freeze({
  publicKey: "pub_sandbox_0123456789abcdef",
  secretKey: "sec_sandbox_fedcba9876543210",
});

export const SANDBOX_MODES = [
  "ok",
  "fail",
  "slow",
  "reject",
  "flaky",
  "error_body",
  "timeout",
  "plan_unavailable",
  "rate_limit",
] as const;

export type SandboxMode = (typeof SANDBOX_MODES)[number];

export interface SandboxBehavior {
  mode: SandboxMode;
  /** fail: the status to answer (default 503); flaky: the failure status (default 503); error_body: default 200. */
  status?: number;
  /** slow: how long to wait before answering normally (default 1000 ms). */
  delayMs?: number;
  /** flaky: the probability of a failure, 0..1 (default 0.5). */
  failRate?: number;
  /** rate_limit: the Retry-After value in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Apply this behavior to the next N requests it matches, then return to ok. */
  remaining?: number;
  /** flaky: the PRNG seed, so a run is repeatable (default 1). */
  seed?: number;
}

export type SandboxEndpointScope = "order" | "api" | "all";

export type SandboxEndpoint = "order" | "affiliate_list" | "conversion_cancel" | "unknown";

export interface ReceivedRequest {
  /** Increases for the life of the sandbox (not restarted by reset()), so pollers can ask for `since`. */
  id: number;
  at: string;
  method: string;
  path: string;
  endpoint: SandboxEndpoint;
  /** The public key presented, if any. The secret key is never stored. */
  publicKey: string | null;
  accepted: boolean;
  /** The status answered; 0 while no answer has been sent (slow) or will ever be sent (timeout). */
  status: number;
  /**
   * The sandbox is done with the request: it answered, or its client had gone when a slow
   * answer was due (then it is neither answered nor accepted). False while held.
   */
  settled: boolean;
  problems: string[];
  /** The order_id of the body, when it carried a string one (kept even without bodies). */
  orderId: string | null;
  /** The behavior that applied to this request ("ok" when none). */
  mode: SandboxMode;
  /** The parsed JSON body (or the raw text when not JSON); null when bodies are not recorded. */
  body: unknown;
}

export interface SandboxStats {
  total: number;
  accepted: number;
  byEndpoint: Record<SandboxEndpoint, number>;
  byStatus: Record<string, number>;
}

export interface RefersionSandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + "/tracker/orders/paid" */
  webhookUrl: string;
  /** url + "/v2" */
  apiUrl: string;
  port: number;
  /** Every request to a Refersion path, in order of arrival (control requests are not listed). */
  received: ReceivedRequest[];
  /** Accepted order posts. */
  orders(): ReceivedRequest[];
  /** Counters, kept even when bodies are not recorded. */
  stats(): SandboxStats;
  setBehavior(behavior: SandboxBehavior, endpoint?: SandboxEndpointScope): void;
  /** The behavior that the next order / API request would meet. */
  behavior(): { order: SandboxBehavior; api: SandboxBehavior };
  /** Clears received requests, counters and known orders, and returns to ok. Keys are kept. */
  reset(): void;
  addKeys(keys: SandboxKeys): void;
  /** Where and how to send conversion webhooks for accepted orders; null stops sending. */
  setConversionWebhooks(config: ConversionWebhooksConfig | null): void;
  /** The conversion webhooks sent, their answers, and a wait until none is pending. */
  conversions: Pick<ConversionSender, "sent" | "settled">;
  /** Resolves once `predicate(received)` holds; checked whenever a request arrives or is answered. */
  waitFor(predicate: (received: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening and ends every open connection, including hung ones. */
  close(): Promise<void>;
}

export interface RefersionSandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The key pairs to accept; default [DEFAULT_SANDBOX_KEYS]. */
  keys?: SandboxKeys[];
  /** Receives one line per answered request; never a key or a body. */
  log?: (line: string) => void;
  /** false keeps request metadata and counters but drops bodies (for long benchmark runs). Default true. */
  recordBodies?: boolean;
}

export const ORDER_PATH = "/tracker/orders/paid";
export const API_PREFIX = "/v2";
const CONTROL_PREFIX = "/__sandbox";
const MAX_BODY_BYTES = 1024 * 1024;
const REDACTED = "[redacted]";

export const CREDENTIALS_ERROR = "Invalid API credentials (error 2).";
export const INVALID_ORDER_ERROR = "Invalid order ID (error 5).";
export const PLAN_ERROR = "API access is not available on your plan";

// ---------------------------------------------------------------------------------------------
// Schemas (the order and cancel bodies: app/refersion/order-json.ts)

const numeric = () =>
  z.union([z.string().regex(/^\d+$/), z.number().int().min(0)], { error: "must be a number or a numeric string" }).optional();

const AffiliateListSchema = z.object({ limit: numeric(), page: numeric() }, { error: "the body must be a JSON object" });

export const SandboxBehaviorSchema = z.strictObject({
  mode: z.enum(SANDBOX_MODES),
  status: z.number().int().min(100).max(599).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  failRate: z.number().min(0).max(1).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  remaining: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
});

const BehaviorRequestSchema = SandboxBehaviorSchema.extend({
  endpoint: z.enum(["order", "api", "all"]).optional(),
});

const KeysSchema = z.strictObject({
  publicKey: z.string().min(1, "publicKey must not be empty"),
  secretKey: z.string().min(1, "secretKey must not be empty"),
});

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

/** One readable line per problem, e.g. `items[0].price: must be >= 0`, `foo: unknown field`. */
function formatIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
    }
    const path = formatPath(issue.path);
    return [path ? `${path}: ${issue.message}` : issue.message];
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** mulberry32: small, fast and repeatable for a given seed. */
function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret && out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** Returns `value` with every occurrence of a secret replaced, in strings and in keys. */
function redactDeep(value: unknown, secrets: string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[redactText(key, secrets)] = redactDeep(item, secrets);
    return out;
  }
  return value;
}

function headerValue(req: http.IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : null;
  return value ?? null;
}

function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => !param.startsWith("charset=") || /^charset="?utf-8"?$/.test(param));
}

const FAKE_AFFILIATES = [
  { id: "8908369", first_name: "Ada", last_name: "Sandbox", email: "ada@affiliates.invalid", status: "ACTIVE", code: "ada1" },
  { id: "8908370", first_name: "Bo", last_name: "Sandbox", email: "bo@affiliates.invalid", status: "ACTIVE", code: "bo22" },
  { id: "8908371", first_name: "Cy", last_name: "Sandbox", email: "cy@affiliates.invalid", status: "PENDING", code: "cy33" },
];

interface BehaviorSlot {
  behavior: SandboxBehavior;
  /** Requests left before returning to ok; null = until changed. */
  left: number | null;
}

const OK_BEHAVIOR: SandboxBehavior = Object.freeze({ mode: "ok" }) as SandboxBehavior;

function emptyStats(): SandboxStats {
  return { total: 0, accepted: 0, byEndpoint: { order: 0, affiliate_list: 0, conversion_cancel: 0, unknown: 0 }, byStatus: {} };
}

function endpointOf(path: string): SandboxEndpoint {
  if (path === ORDER_PATH) return "order";
  if (path === `${API_PREFIX}/affiliate/list`) return "affiliate_list";
  if (path === `${API_PREFIX}/conversion/cancel`) return "conversion_cancel";
  return "unknown";
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => (tooLarge ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// The sandbox

export async function startRefersionSandbox(opts: RefersionSandboxOptions = {}): Promise<RefersionSandbox> {
  const host = opts.host ?? "127.0.0.1";
  const recordBodies = opts.recordBodies !== false;
  const log = opts.log;

  /** public key -> secret key */
  const keys = new Map<string, string>();
  const addKeys = (pair: SandboxKeys) => {
    const parsed = KeysSchema.safeParse(pair);
    if (!parsed.success) throw new Error(`Invalid sandbox keys: ${formatIssues(parsed.error).join("; ")}`);
    keys.set(parsed.data.publicKey, parsed.data.secretKey);
  };
  for (const pair of opts.keys ?? [DEFAULT_SANDBOX_KEYS]) addKeys(pair);

  const received: ReceivedRequest[] = [];
  let nextId = 1;
  let stats = emptyStats();
  /** public key -> order ids accepted under it (cancel only knows orders of the same account). */
  const acceptedOrders = new Map<string, Set<string>>();
  let nextConversionId = 5_000_001;

  let orderSlot: BehaviorSlot = { behavior: OK_BEHAVIOR, left: null };
  let apiSlot: BehaviorSlot = orderSlot;
  let random = createPrng(1);
  const conversions = createConversionSender({ onSent: () => notify() });

  const setBehavior = (behavior: SandboxBehavior, endpoint: SandboxEndpointScope = "all") => {
    const parsed = SandboxBehaviorSchema.safeParse(behavior);
    if (!parsed.success) throw new Error(`Invalid sandbox behavior: ${formatIssues(parsed.error).join("; ")}`);
    // One slot object shared by both scopes for "all", so `remaining` counts requests to either.
    const slot: BehaviorSlot = { behavior: parsed.data, left: parsed.data.remaining ?? null };
    if (endpoint === "order" || endpoint === "all") orderSlot = slot;
    if (endpoint === "api" || endpoint === "all") apiSlot = slot;
    if (parsed.data.mode === "flaky") random = createPrng(parsed.data.seed ?? 1);
  };

  /** The behavior for this request, consuming one of `remaining` when it applies. */
  const takeBehavior = (scope: "order" | "api"): SandboxBehavior => {
    const slot = scope === "order" ? orderSlot : apiSlot;
    const { behavior } = slot;
    if (behavior.mode === "ok") return OK_BEHAVIOR;
    // plan_unavailable concerns the REST API only; order posts neither meet nor consume it.
    if (behavior.mode === "plan_unavailable" && scope === "order") return OK_BEHAVIOR;
    if (slot.left !== null) {
      slot.left -= 1;
      if (slot.left <= 0) {
        if (orderSlot === slot) orderSlot = { behavior: OK_BEHAVIOR, left: null };
        if (apiSlot === slot) apiSlot = { behavior: OK_BEHAVIOR, left: null };
      }
    }
    return behavior;
  };

  const allSecrets = () => keys.values();

  // Waiters for waitFor(); checked whenever a request arrives or is answered.
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };

  // Everything that must end on close(): hung responses and pending slow timers.
  const pendingDelays = new Map<NodeJS.Timeout, () => void>();
  let closing = false;

  const sendJson = (
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    secrets: string[],
    headers: Record<string, string> = {},
  ) => {
    if (status === 204 || status === 304) {
      // These statuses carry no body in HTTP/1.1.
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = redactText(JSON.stringify(payload), [...secrets, ...allSecrets()]);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const finish = (
    entry: ReceivedRequest | null,
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    secrets: string[],
    extra: { accepted?: boolean; problems?: string[]; headers?: Record<string, string> } = {},
  ) => {
    if (!res.writableEnded && !res.destroyed) sendJson(res, status, payload, secrets, extra.headers);
    if (!entry) return;
    entry.status = status;
    entry.settled = true;
    entry.accepted = extra.accepted ?? false;
    entry.problems = (extra.problems ?? []).map((problem) => redactText(problem, [...secrets, ...allSecrets()]));
    stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
    if (entry.accepted) stats.accepted += 1;
    if (log) {
      const parts = [`#${entry.id}`, entry.endpoint, String(status)];
      if (entry.mode !== "ok") parts.push(`mode=${entry.mode}`);
      if (entry.orderId !== null) parts.push(`order_id=${JSON.stringify(entry.orderId)}`);
      if (entry.problems.length > 0) parts.push(`problems=${JSON.stringify(entry.problems)}`);
      log(redactText(parts.join(" "), [...secrets, ...allSecrets()]));
    }
    notify();
  };

  // -------------------------------------------------------------------------------------------
  // Refersion endpoints

  const handleRefersion = async (req: http.IncomingMessage, res: http.ServerResponse, path: string) => {
    const endpoint = endpointOf(path);
    const presentedPublic = headerValue(req, "refersion-public-key");
    const presentedSecret = headerValue(req, "refersion-secret-key");
    // A presented secret is a secret even when wrong; very short values are noise, not keys.
    const secrets = presentedSecret && presentedSecret.length >= 4 ? [presentedSecret] : [];

    let raw: string;
    let bodyProblem: string | null = null;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) return; // the client went away
      raw = "";
      bodyProblem = "too_large";
    }

    let parsed: unknown = undefined;
    let parseFailed = false;
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw);
      } catch {
        parseFailed = true;
      }
    } else {
      parseFailed = true;
    }

    const knownSecrets = [...secrets, ...allSecrets()];
    let recordedPublic = presentedPublic;
    if (recordedPublic !== null && knownSecrets.includes(recordedPublic)) recordedPublic = REDACTED; // keys swapped
    const orderIdValue =
      !parseFailed && parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>).order_id : undefined;

    const entry: ReceivedRequest = {
      id: nextId++,
      at: new Date().toISOString(),
      method: req.method ?? "",
      path,
      endpoint,
      publicKey: recordedPublic,
      accepted: false,
      status: 0,
      settled: false,
      problems: [],
      orderId: typeof orderIdValue === "string" ? redactText(orderIdValue, knownSecrets) : null,
      mode: "ok",
      body: recordBodies
        ? parseFailed
          ? raw.length > 0
            ? redactText(raw.slice(0, 4096), knownSecrets)
            : null
          : redactDeep(parsed, knownSecrets)
        : null,
    };
    received.push(entry);
    stats.total += 1;
    stats.byEndpoint[endpoint] += 1;
    notify();

    if (endpoint === "unknown") {
      finish(entry, res, 404, { error: "Not found" }, secrets, { problems: [`no such endpoint: ${req.method} ${path}`] });
      return;
    }
    if (req.method !== "POST") {
      finish(entry, res, 405, { error: "Method not allowed" }, secrets, {
        problems: [`method ${req.method} not allowed; use POST`],
        headers: { Allow: "POST" },
      });
      return;
    }

    const behavior = takeBehavior(endpoint === "order" ? "order" : "api");
    entry.mode = behavior.mode;
    switch (behavior.mode) {
      case "fail": {
        const status = behavior.status ?? 503;
        finish(entry, res, status, { error: `Service unavailable (sandbox mode fail, ${status})` }, secrets, {
          problems: [`simulated failure ${status}`],
        });
        return;
      }
      case "reject":
        finish(entry, res, 401, { error: CREDENTIALS_ERROR }, secrets, { problems: ["simulated: keys rejected"] });
        return;
      case "flaky":
        if (random() < (behavior.failRate ?? 0.5)) {
          const status = behavior.status ?? 503;
          finish(entry, res, status, { error: "Service temporarily unavailable (sandbox mode flaky)" }, secrets, {
            problems: [`simulated flaky failure ${status}`],
          });
          return;
        }
        break;
      case "error_body":
        finish(entry, res, behavior.status ?? 200, { error: "The request could not be processed (sandbox mode error_body)." }, secrets, {
          problems: ["simulated: error in a success body"],
        });
        return;
      case "rate_limit": {
        const seconds = behavior.retryAfterSeconds ?? 1;
        finish(entry, res, 429, { error: "Too many requests" }, secrets, {
          problems: [`simulated rate limit, Retry-After ${seconds}`],
          headers: { "Retry-After": String(seconds) },
        });
        return;
      }
      case "plan_unavailable":
        finish(entry, res, 403, { error: PLAN_ERROR }, secrets, { problems: ["simulated: API not on plan"] });
        return;
      case "timeout":
        // Never answered; close() ends the connection.
        entry.problems = ["simulated: no answer"];
        log?.(`#${entry.id} ${entry.endpoint} held (mode=timeout)`);
        return;
      case "slow": {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            pendingDelays.delete(timer);
            resolve();
          }, behavior.delayMs ?? 1000);
          pendingDelays.set(timer, resolve);
        });
        if (closing || res.destroyed) {
          entry.settled = true;
          notify();
          return;
        }
        break;
      }
      case "ok":
        break;
    }

    // Credentials.
    const expectedSecret = presentedPublic !== null ? keys.get(presentedPublic) : undefined;
    if (presentedPublic === null || presentedSecret === null || expectedSecret === undefined || expectedSecret !== presentedSecret) {
      const problem =
        presentedPublic === null || presentedSecret === null
          ? `missing header ${presentedPublic === null ? "Refersion-Public-Key" : "Refersion-Secret-Key"}`
          : expectedSecret === undefined
            ? "unknown public key"
            : "secret key does not match the public key";
      finish(entry, res, 401, { error: CREDENTIALS_ERROR }, secrets, { problems: [problem] });
      return;
    }

    // Headers and body.
    const contentType = headerValue(req, "content-type");
    if (!isJsonContentType(contentType)) {
      finish(entry, res, 415, { error: "Content-Type must be application/json" }, secrets, {
        problems: [`Content-Type is ${contentType === null ? "missing" : JSON.stringify(contentType)}, expected application/json`],
      });
      return;
    }
    if (bodyProblem === "too_large") {
      finish(entry, res, 413, { error: "Request body too large" }, secrets, { problems: [`body larger than ${MAX_BODY_BYTES} bytes`] });
      return;
    }
    if (parseFailed) {
      finish(entry, res, 400, { error: "The body is not valid JSON" }, secrets, {
        problems: [raw.length === 0 ? "empty body" : "body is not valid JSON"],
      });
      return;
    }

    if (endpoint === "order") {
      const result = OrderJsonSchema.safeParse(parsed);
      if (!result.success) {
        const problems = formatIssues(result.error);
        finish(entry, res, 422, { errors: problems }, secrets, { problems });
        return;
      }
      let known = acceptedOrders.get(presentedPublic);
      if (!known) acceptedOrders.set(presentedPublic, (known = new Set()));
      known.add(result.data.order_id);
      finish(entry, res, 200, { status: "ok", order_id: result.data.order_id }, secrets, { accepted: true });
      conversions.orderAccepted(result.data);
      return;
    }

    if (endpoint === "affiliate_list") {
      const result = AffiliateListSchema.safeParse(parsed);
      if (!result.success) {
        const problems = formatIssues(result.error);
        finish(entry, res, 422, { errors: problems }, secrets, { problems });
        return;
      }
      const limit = result.data.limit === undefined ? 10 : Number(result.data.limit);
      const page = Math.max(1, result.data.page === undefined ? 1 : Number(result.data.page));
      const start = (page - 1) * limit;
      finish(
        entry,
        res,
        200,
        { results: FAKE_AFFILIATES.slice(start, start + limit), total: FAKE_AFFILIATES.length },
        secrets,
        { accepted: true },
      );
      return;
    }

    // conversion_cancel
    const result = CancelJsonSchema.safeParse(parsed);
    if (!result.success) {
      const problems = formatIssues(result.error);
      finish(entry, res, 422, { errors: problems }, secrets, { problems });
      return;
    }
    if (!acceptedOrders.get(presentedPublic)?.has(result.data.order_id)) {
      finish(entry, res, 422, { error: INVALID_ORDER_ERROR }, secrets, {
        problems: [`order_id ${JSON.stringify(result.data.order_id)} was never accepted for this public key`],
      });
      return;
    }
    finish(entry, res, 200, { conversion_id: nextConversionId++ }, secrets, { accepted: true });
    conversions.orderCancelled(result.data.order_id);
  };

  // -------------------------------------------------------------------------------------------
  // Control endpoints (loopback tooling: the demo, browser tests, the benchmark)

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams) => {
    const route = `${req.method} ${path.slice(CONTROL_PREFIX.length)}`;
    let body: unknown = undefined;
    if (req.method === "POST") {
      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        if (!res.destroyed) sendJson(res, 413, { error: "Request body too large" }, []);
        return;
      }
      if (raw.trim()) {
        try {
          body = JSON.parse(raw);
        } catch {
          sendJson(res, 400, { error: "The body is not valid JSON" }, []);
          return;
        }
      }
    } else {
      req.resume();
    }

    switch (route) {
      case "GET /requests": {
        const since = Number(query.get("since") ?? "0");
        const endpoint = query.get("endpoint");
        const list = received.filter(
          (entry) => (!(since > 0) || entry.id > since) && (!endpoint || entry.endpoint === endpoint),
        );
        sendJson(res, 200, list, []);
        return;
      }
      case "GET /orders":
        sendJson(res, 200, sandbox.orders(), []);
        return;
      case "GET /stats":
        sendJson(res, 200, sandbox.stats(), []);
        return;
      case "GET /behavior":
        sendJson(res, 200, sandbox.behavior(), []);
        return;
      case "POST /behavior": {
        const parsed = BehaviorRequestSchema.safeParse(body);
        if (!parsed.success) {
          sendJson(res, 400, { errors: formatIssues(parsed.error) }, []);
          return;
        }
        const { endpoint, ...behavior } = parsed.data;
        setBehavior(behavior, endpoint ?? "all");
        sendJson(res, 200, { ok: true, behavior: sandbox.behavior() }, []);
        return;
      }
      case "POST /conversion-webhooks": {
        const parsed = ConversionWebhooksSchema.nullable().safeParse(body ?? null);
        if (!parsed.success) {
          sendJson(res, 400, { errors: formatIssues(parsed.error) }, []);
          return;
        }
        conversions.configure(parsed.data);
        sendJson(res, 200, { ok: true, sending: parsed.data !== null }, parsed.data ? [parsed.data.signingSecret] : []);
        return;
      }
      case "GET /conversion-webhooks/sent":
        sendJson(res, 200, conversions.sent, []);
        return;
      case "POST /reset":
        sandbox.reset();
        sendJson(res, 200, { ok: true }, []);
        return;
      case "POST /keys": {
        const parsed = KeysSchema.safeParse(body);
        if (!parsed.success) {
          // The issues name fields, never values.
          sendJson(res, 400, { errors: formatIssues(parsed.error) }, []);
          return;
        }
        addKeys(parsed.data);
        sendJson(res, 200, { ok: true, publicKey: parsed.data.publicKey }, [parsed.data.secretKey]);
        return;
      }
      default:
        sendJson(res, 404, { error: `No such control endpoint: ${route}` }, []);
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const path = url.pathname;
    const handler =
      path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)
        ? handleControl(req, res, path, url.searchParams)
        : handleRefersion(req, res, path);
    handler.catch((error: unknown) => {
      // A bug in the sandbox must be visible but must not take the process down.
      log?.(`sandbox error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: "sandbox error" }, []);
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const sandbox: RefersionSandbox = {
    url,
    webhookUrl: `${url}${ORDER_PATH}`,
    apiUrl: `${url}${API_PREFIX}`,
    port,
    received,
    orders: () => received.filter((entry) => entry.endpoint === "order" && entry.accepted),
    stats: () => ({
      ...stats,
      byEndpoint: { ...stats.byEndpoint },
      byStatus: { ...stats.byStatus },
    }),
    setBehavior,
    behavior: () => ({
      order: { ...orderSlot.behavior, ...(orderSlot.left !== null ? { remaining: orderSlot.left } : {}) },
      api: { ...apiSlot.behavior, ...(apiSlot.left !== null ? { remaining: apiSlot.left } : {}) },
    }),
    reset: () => {
      received.length = 0; // in place: holders of `received` keep a live list
      stats = emptyStats();
      acceptedOrders.clear();
      orderSlot = { behavior: OK_BEHAVIOR, left: null };
      apiSlot = orderSlot;
      random = createPrng(1);
      conversions.reset();
    },
    addKeys,
    setConversionWebhooks: (config) => conversions.configure(config),
    conversions,
    waitFor: (predicate, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(received)) return resolve();
        const check = () => {
          if (!predicate(received)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Sandbox: condition not met within ${timeoutMs} ms (${received.length} requests received)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      }),
    close: async () => {
      if (closing) return;
      closing = true;
      conversions.close();
      for (const [timer, resolve] of pendingDelays) {
        clearTimeout(timer);
        resolve(); // the handler sees `closing` and stops
      }
      pendingDelays.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Ends idle keep-alive sockets and hung (timeout / slow) requests alike.
      server.closeAllConnections();
      await closed;
    },
  };
  return sandbox;
}
