import type { Logger } from "../logger.server";
import type { OfflineAccessProblem } from "../shops/offline-access-problem.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import {
  ORDER_COUNT_QUERY,
  ORDER_PAGE_QUERY,
  ORDER_REFUNDS_QUERY,
  gidDigits,
  orderQuery,
  toRestOrder,
  toRestRefund,
  type GqlLineItem,
  type GqlOrder,
  type GqlRefund,
} from "./graphql-order";

/**
 * Reads orders through the Admin GraphQL API for "resend past orders", within Shopify's
 * cost-based rate limit (a leaky bucket per app and shop):
 * - every answer carries `extensions.cost` (requestedQueryCost, actualQueryCost, throttleStatus
 *   {maximumAvailable, currentlyAvailable, restoreRate}); the reader keeps the bucket's state and,
 *   before a request, waits until the bucket refills to the cost that request asked for last time
 *   ((cost − available) / restoreRate seconds);
 * - an answer with a THROTTLED error is waited out the same way and the request repeated;
 * - HTTP 429 is waited out (Retry-After, else a second), 5xx and network failures are retried with
 *   backoff a few times, then reported as retryable; anything else (401, a query error) is not.
 */

export class ShopifyReadError extends Error {
  override name = "ShopifyReadError";
  constructor(
    message: string,
    /** Whether trying again later can help (Shopify down or slow) or not (access revoked, bad query). */
    readonly retryable: boolean,
    /** Set when the shop's offline access stopped the read, which only the merchant can fix. */
    readonly accessProblem: OfflineAccessProblem | null = null,
  ) {
    super(message);
  }
}

interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

interface Cost {
  requestedQueryCost?: number | null;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus | null;
}

interface GraphqlError {
  message?: string;
  extensions?: { code?: string } | null;
}

interface Answer {
  data: unknown;
  errors: GraphqlError[];
  cost: Cost | null;
}

/** Costs assumed before Shopify has told us (it charges per request, so a first guess suffices). */
const FIRST_ESTIMATES: Record<string, number> = { count: 10, page: 60, order: 900, refunds: 600 };
const MAX_THROTTLED_IN_A_ROW = 30;
const MAX_FAILURES_IN_A_ROW = 4;

export interface OrderReaderDeps {
  graphql: AdminGraphql;
  /** Ask for the buyer's name, email and IP (only when the shop sends customer details). */
  personalData: boolean;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface OrdersPage {
  ids: string[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export function createOrderReader(deps: OrderReaderDeps) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;
  let personalData = deps.personalData;
  let bucket: (ThrottleStatus & { at: number }) | null = null;
  const requestedCost = new Map<string, number>(Object.entries(FIRST_ESTIMATES));
  let waitedMs = 0;

  /** How long until the bucket holds `cost` points, from the last status Shopify reported. */
  function waitFor(cost: number): number {
    if (!bucket || bucket.restoreRate <= 0) return 0;
    const need = Math.min(cost, bucket.maximumAvailable);
    const available = Math.min(bucket.maximumAvailable, bucket.currentlyAvailable + ((now() - bucket.at) / 1000) * bucket.restoreRate);
    return available >= need ? 0 : Math.ceil(((need - available) / bucket.restoreRate) * 1000);
  }

  async function pause(ms: number, why: string) {
    if (ms <= 0) return;
    waitedMs += ms;
    deps.logger.debug("waiting for Shopify's rate limit", { ms, why });
    await sleep(ms);
  }

  function remember(operation: string, cost: Cost | null) {
    if (!cost) return;
    if (typeof cost.requestedQueryCost === "number") requestedCost.set(operation, cost.requestedQueryCost);
    const status = cost.throttleStatus;
    if (status && [status.maximumAvailable, status.currentlyAvailable, status.restoreRate].every(Number.isFinite)) {
      bucket = { ...status, at: now() };
    }
  }

  async function run(operation: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
    let throttled = 0;
    let failures = 0;
    for (;;) {
      await pause(waitFor(requestedCost.get(operation) ?? 0), "bucket below the request's cost");
      const answer = await send(deps.graphql, query, variables).catch((error: unknown) => error);
      if (answer instanceof HttpFailure) {
        if (answer.status === 429) {
          if (++throttled > MAX_THROTTLED_IN_A_ROW) throw new ShopifyReadError("Shopify kept answering 429 (too many requests)", true);
          await pause(answer.retryAfterMs ?? 1_000, "HTTP 429");
          continue;
        }
        if (answer.retryable && ++failures <= MAX_FAILURES_IN_A_ROW) {
          await pause(1_000 * 2 ** (failures - 1), answer.message);
          continue;
        }
        throw new ShopifyReadError(answer.message, answer.retryable);
      }
      if (answer instanceof Error) throw answer;
      const result = answer as Answer;
      remember(operation, result.cost);
      if (result.errors.some((error) => error.extensions?.code === "THROTTLED")) {
        if (++throttled > MAX_THROTTLED_IN_A_ROW) throw new ShopifyReadError("Shopify kept throttling the requests", true);
        await pause(Math.max(waitFor(requestedCost.get(operation) ?? 0), 250), "THROTTLED");
        continue;
      }
      if (result.errors.length > 0) {
        const codes = result.errors.map((error) => error.extensions?.code ?? error.message ?? "error");
        throw new GraphqlErrors(`Shopify reported: ${[...new Set(codes)].join(", ")}`, result.errors, result.data);
      }
      return result.data;
    }
  }

  return {
    /** How many orders the range holds (null when Shopify does not say exactly). */
    async count(search: string): Promise<number | null> {
      const data = (await run("count", ORDER_COUNT_QUERY, { query: search })) as { ordersCount?: { count: number; precision: string } | null };
      return data.ordersCount && data.ordersCount.precision === "EXACT" ? data.ordersCount.count : (data.ordersCount?.count ?? null);
    },

    /** One page of order ids, oldest first, after `cursor`. */
    async page(search: string, cursor: string | null): Promise<OrdersPage> {
      const data = (await run("page", ORDER_PAGE_QUERY, { query: search, after: cursor })) as {
        orders: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      };
      return { ids: data.orders.nodes.map((node) => node.id), hasNextPage: data.orders.pageInfo.hasNextPage, endCursor: data.orders.pageInfo.endCursor };
    },

    /**
     * One order as the REST Order the mapping reads (every line, across pages), or null when it
     * no longer exists. Without access to protected customer data, it is read without the
     * buyer's details from then on.
     */
    async order(id: string): Promise<Record<string, unknown> | null> {
      let first: GqlOrder | null = null;
      const lines: GqlLineItem[] = [];
      let linesAfter: string | null = null;
      for (;;) {
        let data: { order: GqlOrder | null };
        try {
          data = (await run("order", orderQuery({ personalData }), { id, linesAfter })) as { order: GqlOrder | null };
        } catch (error) {
          if (personalData && error instanceof GraphqlErrors && error.errors.some((e) => e.extensions?.code === "ACCESS_DENIED")) {
            deps.logger.warn("no access to protected customer data: past orders are read without the buyer's details");
            personalData = false;
            first = null;
            lines.length = 0;
            linesAfter = null;
            continue;
          }
          throw error;
        }
        if (!data.order) return null;
        first ??= data.order;
        lines.push(...data.order.lineItems.nodes);
        const { hasNextPage, endCursor } = data.order.lineItems.pageInfo;
        if (!hasNextPage || !endCursor) return toRestOrder(first, lines);
        linesAfter = endCursor;
      }
    },

    /** A partially refunded order's refunds, as refunds/create payloads (oldest first). */
    async refunds(id: string): Promise<Record<string, unknown>[]> {
      const data = (await run("refunds", ORDER_REFUNDS_QUERY, { id })) as { order: { refunds: GqlRefund[] } | null };
      const orderId = gidDigits(id);
      if (!data.order || !orderId) return [];
      return data.order.refunds.map((refund) => toRestRefund(orderId, refund));
    },

    /** Milliseconds spent waiting for the rate limit so far. */
    waitedMs: () => waitedMs,
  };
}

export type OrderReader = ReturnType<typeof createOrderReader>;

class GraphqlErrors extends ShopifyReadError {
  constructor(
    message: string,
    readonly errors: GraphqlError[],
    readonly data: unknown,
  ) {
    super(message, false);
  }
}

class HttpFailure extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/**
 * One request through the Shopify library's client (`admin.graphql`), with its outcomes made
 * plain: an answer (data, GraphQL errors, cost) or an HttpFailure. The library returns a Response
 * for a clean answer and throws otherwise: GraphqlQueryError (HTTP 200 with errors; its `body`
 * holds the errors and extensions), HttpThrottlingError / HttpInternalError / HttpResponseError
 * (`response.code`, `response.retryAfter` in seconds), or a plain error for network failures.
 */
async function send(graphql: AdminGraphql, query: string, variables: Record<string, unknown>): Promise<Answer> {
  let response: Response;
  try {
    response = await graphql(query, { variables });
  } catch (error) {
    // Already judged by the caller's client (the shop's token could not be had).
    if (error instanceof ShopifyReadError) throw error;
    if (error instanceof Response) {
      throw new HttpFailure(`Shopify answered ${error.status}`, error.status, error.status === 429 || error.status >= 500, null);
    }
    const thrown = error as {
      message?: string;
      body?: { data?: unknown; extensions?: { cost?: Cost }; errors?: { graphQLErrors?: GraphqlError[] } };
      response?: { code?: number; retryAfter?: number };
    };
    const graphQLErrors = thrown.body?.errors?.graphQLErrors;
    if (Array.isArray(graphQLErrors)) {
      return { data: thrown.body?.data ?? null, errors: graphQLErrors, cost: thrown.body?.extensions?.cost ?? null };
    }
    const status = typeof thrown.response?.code === "number" ? thrown.response.code : null;
    const retryAfter = thrown.response?.retryAfter;
    if (status !== null) {
      const reason = status === 401 || status === 403 ? " (the app's access to the shop was refused; reinstall the app)" : "";
      throw new HttpFailure(
        `Shopify answered ${status}${reason}`,
        status,
        status === 429 || status >= 500,
        typeof retryAfter === "number" && Number.isFinite(retryAfter) ? Math.round(retryAfter * 1000) : null,
      );
    }
    throw new HttpFailure(`Could not reach Shopify: ${thrown.message ?? String(error)}`, null, true, null);
  }
  const body = (await response.json()) as { data?: unknown; errors?: GraphqlError[]; extensions?: { cost?: Cost } };
  return { data: body.data ?? null, errors: Array.isArray(body.errors) ? body.errors : [], cost: body.extensions?.cost ?? null };
}
