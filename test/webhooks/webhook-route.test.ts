import prisma from "~/db.server";
import { action, loader } from "~/routes/webhooks.orders.create";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { TEST_ENV } from "../support/test-env";
import { orderFixtureText } from "../support/fixtures";
import { webhookRequest, type WebhookRequestOptions } from "../support/shopify-webhooks";
import { describeReason } from "~/admin/delivery-reasons";

const SHOP = "route-test.myshopify.com";
const ORDER = orderFixtureText("shopify-docs-order-1001-2026-07.json");

function ordersCreate(overrides: Partial<WebhookRequestOptions> = {}) {
  return webhookRequest({ topic: "orders/create", shop: SHOP, body: ORDER, secret: TEST_ENV.SHOPIFY_API_SECRET, ...overrides });
}

/** Calls the route as Remix would, turning thrown Responses into returned ones. */
async function call(request: Request): Promise<Response> {
  const handler = request.method === "GET" ? loader : action;
  try {
    return (await handler({ request, params: {}, context: {} })) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

describe("POST /webhooks/orders/create", () => {
  beforeEach(async () => {
    await prisma.delivery.deleteMany();
    await prisma.shopSettings.deleteMany();
    // Installed, no keys saved yet: webhooks of a shop that never installed the app store nothing.
    await markShopInstalled(SHOP);
  });

  it("answers 200 to a correctly signed order and stores exactly one outbox row", async () => {
    const response = await call(ordersCreate());
    expect(response.status).toBe(200);
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ orderId: "450789469", orderName: "#1001", status: "waiting_for_keys" });
    const sent = JSON.parse(rows[0].requestBody!);
    expect(sent.order_id).toBe("450789469");
    expect(sent.cart_id).toBe("68778783ad298f1c80c3bafcddeea02f");
  });

  it("queues the order for delivery when the shop has keys", async () => {
    await saveShopSettings(SHOP, {
      publicKey: "pub_route",
      secretKey: "sec_route_secret",
      forwardingEnabled: true,
      currency: "shop",
      forwardTestOrders: false,
      sendCustomerDetails: true,
      autoCreditAffiliate: false,
    });
    expect((await call(ordersCreate())).status).toBe(200);
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP } });
    expect(row.status).toBe("pending");
  });

  it("answers 401 to a forged signature and stores nothing", async () => {
    const response = await call(ordersCreate({ forgeWith: "not-the-app-secret" }));
    expect(response.status).toBe(401);
    expect(await prisma.delivery.count()).toBe(0);
  });

  it("answers 400 when Shopify's headers are missing", async () => {
    const response = await call(ordersCreate({ omitHeaders: ["X-Shopify-Topic", "X-Shopify-Shop-Domain"] }));
    expect(response.status).toBe(400);
    expect(await prisma.delivery.count()).toBe(0);
  });

  it("answers 405 to GET", async () => {
    const response = await call(ordersCreate({ method: "GET" }));
    expect(response.status).toBe(405);
  });

  it("keeps one row when Shopify delivers the same order again, with the same or a new webhook id", async () => {
    await call(ordersCreate({ webhookId: "same-id" }));
    await call(ordersCreate({ webhookId: "same-id" }));
    await call(ordersCreate({ webhookId: "another-id" }));
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP } });
    expect(rows).toHaveLength(1);
    expect(rows[0].webhookId).toBe("same-id");
  });

  it("records a signed payload that cannot be mapped with the reason, and acknowledges it", async () => {
    const body = JSON.stringify({ id: 123456, admin_graphql_api_id: "gid://shopify/Order/123456", line_items: "not a list" });
    const response = await call(ordersCreate({ body }));
    expect(response.status).toBe(200);
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP } });
    expect(row).toMatchObject({ orderId: "123456", status: "failed", requestBody: null });
    expect(row.reasonCode).toBe("unmappable");
    expect(describeReason(row.reasonCode, row.reasonDetail)).toMatch(/could not be mapped/);
    expect(row.sourceExcerpt).toContain("not a list");
  });

  it("keeps the exact order id of an order whose id exceeds 2^53", async () => {
    await call(ordersCreate({ body: orderFixtureText("test-notification-9999-2019.json") }));
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP } });
    expect(row.orderId).toBe("820982911946154508");
  });
});
