import http from "node:http";
import type { AddressInfo } from "node:net";
import type { GqlLineItem, GqlMoneyBag, GqlOrder, GqlRefund, GqlTaxLine } from "~/backfill/graphql-order";
import { createShopifyTokenEndpoint, TOKEN_PATH, type ShopifyTokenEndpoint } from "./shopify-token-endpoint";

/**
 * A local stand-in for the orders part of Shopify's Admin GraphQL API, for "resend past orders".
 * Requests reach it through test/support/shopify-admin-fetch-preload.mjs (the app's fetch for
 * https://<shop>.myshopify.com goes to 127.0.0.1 with the shop in `x-standin-shop`), the same
 * way test/admin/support/shopify-admin-standin.ts serves the admin pages' operations.
 *
 * It answers ordersCount, orders (a page of ids), order (one order, its lines paged) and an
 * order's refunds for the
 * orders of the shop whose createdAt falls in the `created_at:>='…' created_at:<='…'` search,
 * checks the access token (401 otherwise: unknown, replaced or expired; see `tokens`, which also
 * serves Shopify's token endpoint, test/support/shopify-token-endpoint.ts), and enforces a cost-based rate limit as Shopify
 * describes it: a leaky bucket per shop (maximumAvailable, restoreRate per second); a request
 * whose requested cost exceeds what is available is answered with a THROTTLED error and the
 * bucket's state in `extensions.cost`; otherwise its actual cost is taken from the bucket.
 * `throttleEvery: n` also throttles every n-th request (after draining the bucket), so that
 * the client meets THROTTLED answers however carefully it paces itself. Every request is
 * recorded with its time, so tests can check that the client waited as told.
 */

export const API_PATH = "/admin/api/2026-10/graphql.json";

/** An order as the stand-in holds it: the GraphQL Order, and its refunds. */
export type StandinOrder = GqlOrder & { refunds?: GqlRefund[] };

export interface StandinShop {
  /** The token the Admin API accepts (a non-expiring one); `tokens.set` for expiring ones. */
  accessToken: string;
  orders: StandinOrder[];
  /** false: asking for the buyer's name, email or IP is refused with ACCESS_DENIED. */
  protectedCustomerData?: boolean;
}

export interface BucketOptions {
  maximumAvailable: number;
  restoreRate: number;
  /** Throttle every n-th request regardless of the bucket (0: never). */
  throttleEvery: number;
  /** Delay before answering an `order` request, to make runs slow enough to interrupt. */
  orderDelayMs: number;
}

export type Operation = "count" | "page" | "order" | "refunds" | "unknown";

export interface GraphqlStandinRequest {
  at: number;
  shop: string | null;
  operation: Operation;
  variables: Record<string, unknown>;
  status: number;
  throttled: "no" | "bucket" | "forced";
  /** The bucket when the request arrived (after refilling). */
  availableBefore: number;
  requestedCost: number;
  /** What the answer reported: the wait it implies before `requestedCost` is available, in ms. */
  impliedWaitMs: number;
  personalData: boolean;
}

const REQUESTED_COST: Record<Exclude<Operation, "unknown">, number> = { count: 1, page: 52, order: 800, refunds: 540 };

function actualCost(operation: Operation, size: number): number {
  if (operation === "order") return 40 + 10 * size;
  if (operation === "page") return 2 + size;
  return 1;
}

function operationOf(query: string): Operation {
  if (/\bordersCount\s*\(/.test(query)) return "count";
  if (/\borders\s*\(/.test(query)) return "page";
  if (/\brefunds\s*\(first:/.test(query)) return "refunds";
  if (/\border\s*\(\s*id:/.test(query)) return "order";
  return "unknown";
}

const SEARCH = /^created_at:>='([^']+)'(?: created_at:<='([^']+)')?$/;

function cursorOf(index: number): string {
  return Buffer.from(`cursor:${index}`).toString("base64url");
}

function indexOf(cursor: unknown): number {
  if (typeof cursor !== "string") return 0;
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new Error(`unknown cursor ${cursor}`);
  return Number(match[1]) + 1;
}

export interface ShopifyGraphqlStandin {
  url: string;
  requests: GraphqlStandinRequest[];
  /** Shopify's token endpoint and the tokens the Admin API accepts. */
  tokens: ShopifyTokenEndpoint;
  setShop(shop: string, fixture: StandinShop): void;
  setBucket(options: Partial<BucketOptions>): void;
  /** Requests it could not serve (unknown operation or shop, malformed search). */
  unexpected(): GraphqlStandinRequest[];
  close(): Promise<void>;
}

export async function startShopifyGraphqlStandin(options: Partial<BucketOptions> = {}): Promise<ShopifyGraphqlStandin> {
  const shops = new Map<string, StandinShop>();
  const requests: GraphqlStandinRequest[] = [];
  const tokens = createShopifyTokenEndpoint();
  let bucketOptions: BucketOptions = { maximumAvailable: 2_000, restoreRate: 100, throttleEvery: 0, orderDelayMs: 0, ...options };
  const buckets = new Map<string, { available: number; at: number }>();
  let served = 0;

  const bucketOf = (shop: string) => {
    const now = Date.now();
    const bucket = buckets.get(shop) ?? { available: bucketOptions.maximumAvailable, at: now };
    bucket.available = Math.min(bucketOptions.maximumAvailable, bucket.available + ((now - bucket.at) / 1000) * bucketOptions.restoreRate);
    bucket.at = now;
    buckets.set(shop, bucket);
    return bucket;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const shop = typeof req.headers["x-standin-shop"] === "string" ? req.headers["x-standin-shop"] : null;
      const path = new URL(req.url ?? "/", "http://standin.invalid").pathname;
      if (path === TOKEN_PATH) {
        const { status, payload, disconnect } = await tokens.handle(shop, req.method ?? "GET", Buffer.concat(chunks).toString("utf8"));
        if (disconnect) return void req.socket.destroy();
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(payload));
        return;
      }
      let query = "";
      let variables: Record<string, unknown> = {};
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { query?: string; variables?: Record<string, unknown> };
        query = body.query ?? "";
        variables = body.variables ?? {};
      } catch {
        // Recorded as unknown below.
      }
      const operation = operationOf(query);
      const entry: GraphqlStandinRequest = {
        at: Date.now(),
        shop,
        operation,
        variables,
        status: 0,
        throttled: "no",
        availableBefore: 0,
        requestedCost: operation === "unknown" ? 0 : REQUESTED_COST[operation],
        impliedWaitMs: 0,
        personalData: /\bclientIp\b|\bfirstName\b/.test(query),
      };
      requests.push(entry);
      const send = (status: number, payload: unknown) => {
        entry.status = status;
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(payload));
      };

      const fixture = shop ? shops.get(shop) : undefined;
      if (req.method !== "POST" || path !== API_PATH || !fixture || operation === "unknown") return send(404, { errors: "Not Found" });
      if (!tokens.admits(shop!, req.headers["x-shopify-access-token"])) {
        return send(401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
      }

      // The rate limit.
      const bucket = bucketOf(shop!);
      entry.availableBefore = bucket.available;
      served += 1;
      const forced = bucketOptions.throttleEvery > 0 && served % bucketOptions.throttleEvery === 0;
      if (forced) bucket.available = Math.min(bucket.available, entry.requestedCost / 4);
      const throttleStatus = () => ({
        maximumAvailable: bucketOptions.maximumAvailable,
        currentlyAvailable: Math.floor(bucket.available),
        restoreRate: bucketOptions.restoreRate,
      });
      if (forced || bucket.available < entry.requestedCost) {
        entry.throttled = forced ? "forced" : "bucket";
        const status = throttleStatus();
        entry.impliedWaitMs = Math.max(0, ((entry.requestedCost - status.currentlyAvailable) / status.restoreRate) * 1000);
        return send(200, {
          errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
          extensions: { cost: { requestedQueryCost: entry.requestedCost, actualQueryCost: null, throttleStatus: status } },
        });
      }

      // Only orders in the searched range, oldest first.
      const search = typeof variables.query === "string" ? SEARCH.exec(variables.query) : null;
      if ((operation === "count" || operation === "page") && !search) return send(200, { errors: [{ message: `Unsupported search: ${String(variables.query)}` }] });
      const since = search ? Date.parse(search[1]) : 0;
      const until = search?.[2] ? Date.parse(search[2]) : Infinity;
      const inRange = fixture.orders
        .filter((order) => Date.parse(order.createdAt) >= since && Date.parse(order.createdAt) <= until)
        .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));

      let data: unknown;
      let size = 0;
      if (operation === "count") {
        data = { ordersCount: { count: inRange.length, precision: "EXACT" } };
      } else if (operation === "page") {
        const first = Number(/orders\(first:\s*(\d+)/.exec(query)?.[1] ?? 0);
        const start = indexOf(variables.after);
        const nodes = inRange.slice(start, start + first);
        size = nodes.length;
        data = {
          orders: {
            nodes: nodes.map((order) => ({ id: order.id })),
            pageInfo: { hasNextPage: start + first < inRange.length, endCursor: nodes.length ? cursorOf(start + nodes.length - 1) : null },
          },
        };
      } else if (operation === "refunds") {
        const order = fixture.orders.find((candidate) => candidate.id === variables.id) ?? null;
        const refunds = (order?.refunds ?? []).slice(0, Number(/refunds\(first:\s*(\d+)/.exec(query)?.[1] ?? 0));
        size = refunds.length;
        data = { order: order ? { refunds } : null };
      } else {
        if (bucketOptions.orderDelayMs) await new Promise((resolve) => setTimeout(resolve, bucketOptions.orderDelayMs));
        const order = fixture.orders.find((candidate) => candidate.id === variables.id) ?? null;
        if (order && entry.personalData && fixture.protectedCustomerData === false) {
          bucket.available -= actualCost(operation, 0);
          return send(200, {
            data: { order: null },
            errors: [{ message: "This app is not approved to access the Customer object.", extensions: { code: "ACCESS_DENIED" }, path: ["order", "customer"] }],
            extensions: { cost: { requestedQueryCost: entry.requestedCost, actualQueryCost: actualCost(operation, 0), throttleStatus: throttleStatus() } },
          });
        }
        if (!order) {
          data = { order: null };
        } else {
          const first = Number(/lineItems\(first:\s*(\d+)/.exec(query)?.[1] ?? 0);
          const start = indexOf(variables.linesAfter);
          const lines = order.lineItems.nodes.slice(start, start + first);
          size = lines.length;
          const { email, clientIp, customer, billingAddress, refunds: _refunds, ...rest } = order;
          data = {
            order: {
              ...rest,
              ...(entry.personalData ? { email, clientIp, customer, billingAddress } : {}),
              lineItems: {
                nodes: lines,
                pageInfo: { hasNextPage: start + first < order.lineItems.nodes.length, endCursor: lines.length ? cursorOf(start + lines.length - 1) : null },
              },
            },
          };
        }
      }
      const cost = actualCost(operation, size);
      bucket.available -= cost;
      send(200, { data, extensions: { cost: { requestedQueryCost: entry.requestedCost, actualQueryCost: cost, throttleStatus: throttleStatus() } } });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    setShop(shop, fixture) {
      shops.set(shop, fixture);
      tokens.set(shop, { accessToken: fixture.accessToken });
    },
    setBucket(next) {
      bucketOptions = { ...bucketOptions, ...next };
      buckets.clear();
    },
    unexpected: () => requests.filter((entry) => entry.operation === "unknown" || entry.status === 404 || entry.status === 401),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// REST fixtures as the GraphQL Admin API returns the same orders

type Json = Record<string, unknown>;

function bag(holder: Json, field: string, shopCurrency: string, presentmentCurrency: string): GqlMoneyBag | null {
  const set = holder[`${field}_set`] as { shop_money?: Json; presentment_money?: Json } | undefined;
  if (set?.shop_money && set.presentment_money) {
    return {
      shopMoney: { amount: String(set.shop_money.amount), currencyCode: String(set.shop_money.currency_code ?? shopCurrency) },
      presentmentMoney: { amount: String(set.presentment_money.amount), currencyCode: String(set.presentment_money.currency_code ?? presentmentCurrency) },
    };
  }
  const plain = holder[field];
  if (plain === null || plain === undefined) return null;
  return { shopMoney: { amount: String(plain), currencyCode: shopCurrency }, presentmentMoney: { amount: String(plain), currencyCode: presentmentCurrency } };
}

const zero = (shop: string, presentment: string): GqlMoneyBag => ({
  shopMoney: { amount: "0.0", currencyCode: shop },
  presentmentMoney: { amount: "0.0", currencyCode: presentment },
});

function gid(type: string, holder: Json): string {
  return typeof holder.admin_graphql_api_id === "string" ? holder.admin_graphql_api_id : `gid://shopify/${type}/${String(holder.id)}`;
}

function attributes(value: unknown): { key: string; value: string | null }[] {
  return Array.isArray(value)
    ? value.filter((entry) => entry && typeof entry === "object").map((entry) => ({ key: String((entry as Json).name), value: (entry as Json).value === null ? null : String((entry as Json).value) }))
    : [];
}

/**
 * The GraphQL Admin API's view of a REST order (an orders/create payload), field for field, the
 * way Shopify exposes the same order through both APIs. Ids stay exact (`idText` gives the
 * order's id as published, digits intact).
 */
export function graphqlOrderOf(order: Json, idText = String(order.id)): StandinOrder {
  const shopCurrency = String(order.currency);
  const presentment = String(order.presentment_currency ?? shopCurrency);
  const money = (holder: Json, field: string) => bag(holder, field, shopCurrency, presentment);
  const tax = (lines: unknown): GqlTaxLine[] =>
    ((lines as Json[] | undefined) ?? []).map((line) => ({ rate: line.rate === undefined ? null : Number(line.rate), title: (line.title as string) ?? null, priceSet: money(line, "price") ?? zero(shopCurrency, presentment) }));
  const discounts = (list: unknown) =>
    ((list as Json[] | undefined) ?? []).map((allocation) => ({ allocatedAmountSet: money(allocation, "amount") ?? zero(shopCurrency, presentment) }));
  const customer = order.customer as Json | null | undefined;
  const billing = order.billing_address as Json | null | undefined;
  const client = order.client_details as Json | null | undefined;
  const lines: GqlLineItem[] = (order.line_items as Json[]).map((line) => ({
    id: gid("LineItem", line),
    name: (line.name as string) ?? null,
    title: (line.title as string) ?? null,
    sku: (line.sku as string) ?? null,
    quantity: Number(line.quantity),
    isGiftCard: line.gift_card === true,
    originalUnitPriceSet: money(line, "price")!,
    customAttributes: attributes(line.properties),
    sellingPlan: line.selling_plan_id ? { sellingPlanId: `gid://shopify/SellingPlan/${String(line.selling_plan_id)}` } : null,
    taxLines: tax(line.tax_lines),
    discountAllocations: discounts(line.discount_allocations),
  }));
  return {
    id: `gid://shopify/Order/${idText}`,
    legacyResourceId: idText,
    name: (order.name as string) ?? null,
    createdAt: new Date(String(order.created_at)).toISOString(),
    test: order.test === true,
    currencyCode: shopCurrency,
    presentmentCurrencyCode: presentment,
    taxesIncluded: order.taxes_included === true,
    displayFinancialStatus: typeof order.financial_status === "string" ? order.financial_status.toUpperCase() : null,
    cancelledAt: (order.cancelled_at as string) ?? null,
    sourceName: (order.source_name as string) ?? null,
    tags: typeof order.tags === "string" ? order.tags.split(",").map((tag) => tag.trim()).filter(Boolean) : [],
    discountCodes: ((order.discount_codes as Json[] | undefined) ?? []).map((code) => String(code.code)),
    cartToken: (order.cart_token as string) ?? null,
    customAttributes: attributes(order.note_attributes),
    subtotalPriceSet: money(order, "subtotal_price"),
    totalPriceSet: money(order, "total_price"),
    totalTaxSet: money(order, "total_tax"),
    totalDiscountsSet: money(order, "total_discounts"),
    taxLines: tax(order.tax_lines),
    shippingLines: {
      nodes: ((order.shipping_lines as Json[] | undefined) ?? [])
        .filter((line) => line.is_removed !== true)
        .map((line) => ({
          originalPriceSet: money(line, "price") ?? zero(shopCurrency, presentment),
          discountedPriceSet: money(line, "discounted_price") ?? money(line, "price") ?? zero(shopCurrency, presentment),
          taxLines: tax(line.tax_lines),
          discountAllocations: discounts(line.discount_allocations),
        })),
    },
    lineItems: { nodes: lines, pageInfo: { hasNextPage: false, endCursor: null } },
    email: ((order.email as string) || (order.contact_email as string)) ?? null,
    clientIp: ((order.browser_ip as string) ?? (client?.browser_ip as string)) ?? null,
    customer: customer ? { id: gid("Customer", customer), firstName: (customer.first_name as string) ?? null, lastName: (customer.last_name as string) ?? null, email: (customer.email as string) ?? null } : null,
    billingAddress: billing ? { firstName: (billing.first_name as string) ?? null, lastName: (billing.last_name as string) ?? null } : null,
    refunds: ((order.refunds as Json[] | undefined) ?? []).map((refund) => ({
      id: gid("Refund", refund),
      legacyResourceId: String(refund.id),
      totalRefundedSet: {
        shopMoney: { amount: String(((refund.transactions as Json[] | undefined) ?? []).reduce((sum, t) => sum + Number(t.amount ?? 0), 0)), currencyCode: shopCurrency },
        presentmentMoney: { amount: "0", currencyCode: presentment },
      },
      refundLineItems: {
        nodes: ((refund.refund_line_items as Json[] | undefined) ?? []).map((entry) => {
          const line = entry.line_item as Json;
          return { quantity: Number(entry.quantity), lineItem: { id: gid("LineItem", line), sku: (line.sku as string) ?? null, name: (line.name as string) ?? null, title: (line.title as string) ?? null } };
        }),
      },
    })),
  };
}
