import prisma from "~/db.server";
import { createConfiguredWorker } from "~/background/background-work.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import type { SettingsForm } from "~/settings/settings-form";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { TEST_ENV } from "./test-env";
import { webhookRequest } from "./shopify-webhooks";

type Json = Record<string, unknown>;
type Action = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<unknown>;

/** The webhook routes of the order lifecycle, loaded lazily (after any test setup of the environment). */
export const ROUTES = {
  "orders/create": () => import("~/routes/webhooks.orders.create"),
  "orders/paid": () => import("~/routes/webhooks.orders.paid"),
  "orders/cancelled": () => import("~/routes/webhooks.orders.cancelled"),
  "refunds/create": () => import("~/routes/webhooks.refunds.create"),
} as const;

export type LifecycleTopic = keyof typeof ROUTES;

/**
 * Sends a webhook to its route as Shopify would: the body signed with the app's secret (or a
 * forged one), Shopify's headers, and the route's action called as Remix calls it. Thrown
 * Responses (401, 400, 405) are returned.
 */
export async function sendWebhook(
  shop: string,
  topic: LifecycleTopic,
  payload: unknown,
  options: { webhookId?: string; forgeWith?: string; method?: string } = {},
): Promise<Response> {
  const route = await ROUTES[topic]();
  // Shopify's orders/cancelled always carries cancelled_at; the tests build it from orders/create bodies.
  const cancelledAt = (payload as { cancelled_at?: unknown } | null)?.cancelled_at ?? "2026-11-21T10:00:00-05:00";
  const body = topic === "orders/cancelled" && payload && typeof payload === "object" && !Array.isArray(payload) ? { ...payload, cancelled_at: cancelledAt } : payload;
  const request = webhookRequest({
    topic,
    shop,
    body: typeof body === "string" ? body : JSON.stringify(body),
    secret: TEST_ENV.SHOPIFY_API_SECRET,
    ...options,
  });
  const handler = (request.method === "GET" ? route.loader : route.action) as unknown as Action;
  try {
    return (await handler({ request, params: {}, context: {} })) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

/** Saves the sandbox's keys for a shop, with defaults a merchant keeps, and any options given. */
export async function configureLifecycleShop(shop: string, options: Partial<SettingsForm> = {}) {
  await saveShopSettings(shop, {
    ...DEFAULT_SANDBOX_KEYS,
    forwardingEnabled: true,
    currency: "shop",
    forwardTestOrders: true,
    sendCustomerDetails: true,
    autoCreditAffiliate: false,
    forwardTrigger: "created",
    reverseCancellations: true,
    reverseRefunds: true,
    ...options,
  });
}

/** A controllable clock for the worker (its lease and retry times), starting now. */
export function createClock() {
  let at = new Date(Date.now() + 60_000);
  return {
    now: () => at,
    advance(ms: number) {
      at = new Date(at.getTime() + ms);
    },
  };
}

/** The app's delivery worker, pointed at the sandbox, on a test clock. Retries wait 30 s (jitter fixed). */
export function lifecycleWorker(sandbox: RefersionSandbox, clock: { now: () => Date }) {
  return createConfiguredWorker({
    now: clock.now,
    random: () => 0.5,
    config: {
      webhookUrl: sandbox.webhookUrl,
      apiUrl: sandbox.apiUrl,
      timeoutMs: 5_000,
      retryBaseMs: 30_000,
      leaseMs: 60_000,
      concurrency: 4,
      pollMs: 50,
    },
  });
}

/**
 * The setup the lifecycle test files share: one Refersion stand-in per file; before each test an
 * empty outbox and no saved settings (then `configureShop`, when given, configured) and a new clock.
 */
export function useLifecycleHarness(options: { configureShop?: string } = {}) {
  let sandbox: RefersionSandbox | null = null;
  let clock = createClock();
  const harness = {
    get sandbox(): RefersionSandbox {
      if (!sandbox) throw new Error("The Refersion stand-in starts in beforeAll");
      return sandbox;
    },
    get clock() {
      return clock;
    },
    worker: () => lifecycleWorker(harness.sandbox, clock),
  };
  beforeAll(async () => {
    sandbox = await startRefersionSandbox();
  });
  afterAll(() => sandbox?.close());
  beforeEach(async () => {
    harness.sandbox.reset();
    await prisma.deliveryAttempt.deleteMany();
    await prisma.delivery.deleteMany();
    await prisma.shopSettings.deleteMany();
    if (options.configureShop) await configureLifecycleShop(options.configureShop);
    clock = createClock();
  });
  return harness;
}

export function rowsOf(shop: string, orderId?: string) {
  return prisma.delivery.findMany({
    where: { shop, ...(orderId ? { orderId } : {}) },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } },
  });
}

export function rowOf(shop: string, orderId: string, kind: string) {
  return prisma.delivery.findUnique({
    where: { shop_orderId_kind: { shop, orderId, kind } },
    include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } },
  });
}

/** The bodies of the cancel calls the sandbox accepted, in order of arrival. */
export function acceptedCancels(sandbox: RefersionSandbox) {
  return sandbox.received.filter((r) => r.endpoint === "conversion_cancel" && r.accepted).map((r) => r.body as { order_id: string; items: Json[] });
}

/** An order with its ids replaced, so one fixture yields many orders. */
export function withOrderId(order: Json, orderId: number): Json {
  return { ...order, id: orderId, admin_graphql_api_id: `gid://shopify/Order/${orderId}` };
}

/**
 * A refunds/create payload as Shopify sends it (REST Refund: refund_line_items with the whole
 * line item, transactions, order_adjustments) for some lines of an order. `money: false` makes a
 * restock-only refund (no transaction); `amount` overrides the refunded amount.
 */
export function refundPayload(
  order: Json,
  refundId: number,
  lines: { index: number; quantity: number; restockType?: string }[],
  options: { money?: boolean; amount?: string } = {},
): Json {
  const lineItems = order.line_items as Json[];
  const currency = String(order.currency);
  const refundLineItems = lines.map(({ index, quantity, restockType }, position) => {
    const line = lineItems[index];
    const subtotal = (Number(line.price) * quantity).toFixed(2);
    return {
      id: refundId * 10 + position,
      line_item_id: line.id,
      location_id: null,
      quantity,
      restock_type: restockType ?? "return",
      subtotal: Number(subtotal),
      subtotal_set: {
        shop_money: { amount: subtotal, currency_code: currency },
        presentment_money: { amount: subtotal, currency_code: String(order.presentment_currency ?? currency) },
      },
      total_tax: 0,
      total_tax_set: { shop_money: { amount: "0.00", currency_code: currency }, presentment_money: { amount: "0.00", currency_code: currency } },
      line_item: line,
    };
  });
  const amount = options.amount ?? refundLineItems.reduce((sum, line) => sum + line.subtotal, 0).toFixed(2);
  return {
    id: refundId,
    admin_graphql_api_id: `gid://shopify/Refund/${refundId}`,
    order_id: order.id,
    created_at: "2026-11-20T10:00:00-05:00",
    note: null,
    processed_at: "2026-11-20T10:00:00-05:00",
    restock: lines.some((line) => line.restockType !== "no_restock"),
    user_id: null,
    duties: [],
    total_duties_set: { shop_money: { amount: "0.00", currency_code: currency }, presentment_money: { amount: "0.00", currency_code: currency } },
    order_adjustments: [],
    refund_line_items: refundLineItems,
    transactions:
      options.money === false
        ? []
        : [
            {
              id: refundId + 1,
              admin_graphql_api_id: `gid://shopify/OrderTransaction/${refundId + 1}`,
              amount,
              currency,
              gateway: "bogus",
              kind: "refund",
              order_id: order.id,
              parent_id: null,
              status: "success",
              test: true,
            },
          ],
    refund_shipping_lines: [],
  };
}
