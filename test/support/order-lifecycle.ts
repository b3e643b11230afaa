import prisma from "~/db.server";
import { createConfiguredWorker } from "~/background/background-work.server";
import { saveShopSettings } from "~/settings/shop-settings.server";
import type { SettingsForm } from "~/settings/settings-form";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { TEST_ENV } from "./test-env";
import { webhookRequest } from "./shopify-webhooks";

export { refundPayload, withOrderId } from "./order-payloads";

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
