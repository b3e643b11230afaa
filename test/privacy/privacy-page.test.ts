/**
 * The merchant's "Privacy requests" page: the shop's customers/data_request webhooks as Shopify
 * sent them, and a JSON download of what the app holds for each customer. Through the route's
 * loader and action with session tokens as App Bridge sends them; each shop sees only its own.
 */
import { adminRequest, thrownResponse, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";

const harness = await startAdminHarness();
const page = await import("~/routes/app.privacy");
const dataRequest = await import("~/routes/webhooks.customers.data_request");
const ordersCreate = await import("~/routes/webhooks.orders.create");
const { default: prisma } = await import("~/db.server");
const { configureShop } = await import("../support/outbox");
const { webhookRequest } = await import("../support/shopify-webhooks");
const { TEST_ENV } = await import("../support/test-env");
const { ADA, BO, orderBy, personalValuesOf } = await import("./buyers");

const SHOP_A = "privacy-page-a.myshopify.com";
const SHOP_B = "privacy-page-b.myshopify.com";
const KEYS = { publicKey: "pub_privacy_page_1", secretKey: "sec_privacy_page_NEVER_SHOWN_77" };

async function sendWebhook(route: { action: (args: never) => Promise<unknown> }, topic: string, shop: string, body: string) {
  const request = webhookRequest({ topic, shop, body, secret: TEST_ENV.SHOPIFY_API_SECRET });
  const response = (await route.action({ request, params: {}, context: {} } as never)) as Response;
  expect(response.status).toBe(200);
}

const requestData = (buyer: typeof ADA, orders: number[], shop = SHOP_A) =>
  JSON.stringify({ shop_domain: shop, orders_requested: orders, customer: { id: buyer.id, email: buyer.email }, data_request: { id: 1 } });

async function load(shop: string) {
  return unwrap(await page.loader({ request: adminRequest(shop, "/app/privacy"), params: {}, context: {} })).data;
}

async function adaRequestOf(shop: string) {
  return (await load(shop)).requests.find((request) => request.customerId === String(ADA.id))!;
}

async function download(shop: string, requestId: string) {
  const request = adminRequest(shop, "/app/privacy", { intent: "download", requestId });
  return unwrap(await page.action({ request, params: {}, context: {} })).data;
}

beforeAll(async () => {
  await harness.install(SHOP_A);
  await harness.install(SHOP_B);
  await configureShop(SHOP_A, KEYS);
  await configureShop(SHOP_B, KEYS);
  await sendWebhook(ordersCreate, "orders/create", SHOP_A, JSON.stringify(orderBy(ADA, 9401)));
  await sendWebhook(ordersCreate, "orders/create", SHOP_A, JSON.stringify(orderBy(ADA, 9402)));
  await sendWebhook(ordersCreate, "orders/create", SHOP_A, JSON.stringify(orderBy(BO, 9403)));
  await sendWebhook(ordersCreate, "orders/create", SHOP_B, JSON.stringify(orderBy(BO, 9501)));
  await sendWebhook(dataRequest, "customers/data_request", SHOP_A, requestData(ADA, [9401, 9402]));
  await new Promise((resolve) => setTimeout(resolve, 5));
  await sendWebhook(dataRequest, "customers/data_request", SHOP_A, "{not json");
  await sendWebhook(dataRequest, "customers/data_request", SHOP_B, requestData(BO, [9501], SHOP_B));
});
afterAll(() => harness.close());
afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
});

describe("Privacy requests page", () => {
  it("lists the shop's data requests, newest first, with the customer and the orders Shopify named", async () => {
    const view = await load(SHOP_A);
    expect(view.total).toBe(2);
    const [unreadable, ada] = view.requests;
    // Sent last, so listed first.
    expect(ada).toMatchObject({ customerId: String(ADA.id), orderIds: ["9401", "9402"], outcome: "Stored orders found: 2", downloadable: true });
    expect(ada.receivedAt).toMatch(/ UTC$/);
    expect(ada.customerUrl).toBe(`https://${SHOP_A}/admin/customers/${ADA.id}`);
    expect(unreadable).toMatchObject({ customerId: null, customerUrl: null, orderIds: [], downloadable: false });
    // In the merchant's words; the parser's message only in the details.
    expect(unreadable.outcome).toMatch(/could not be read, so it names no customer.*Answer it by hand/);
    expect(unreadable.outcome).not.toMatch(/JSON|token|position/i);
    expect(unreadable.detail).toMatch(/not valid JSON.*Answer this request by hand/);
    // Nothing of the other shop, and no personal data in the list itself.
    const text = JSON.stringify(view);
    expect(text).not.toContain(String(BO.id));
    expect(text).not.toContain("9501");
    for (const value of personalValuesOf(ADA)) expect(text).not.toContain(value);
  });

  it("downloads what the app holds for that customer as JSON, and nothing secret", async () => {
    const ada = await adaRequestOf(SHOP_A);
    const file = await download(SHOP_A, ada.id);
    expect(file.fileName).toBe(`customer-${ADA.id}-data.json`);
    const document = JSON.parse(file.json);
    expect(document.shop).toBe(SHOP_A);
    expect(document.request).toMatchObject({ customerId: String(ADA.id), ordersRequested: ["9401", "9402"] });
    expect(document.orders.map((order: { orderId: string }) => order.orderId)).toEqual(["9401", "9402"]);
    expect(document.orders[0].storedOrder.email).toBe(ADA.email);
    expect(document.orders[0].sentToRefersion).toMatchObject({ order_id: "9401", customer: { email: ADA.email } });
    for (const value of personalValuesOf(BO)) expect(file.json).not.toContain(value);
    for (const secret of [KEYS.secretKey, KEYS.secretKey.slice(4, 16), `shpat_${SHOP_A.split(".")[0]}`, TEST_ENV.SHOPIFY_API_SECRET, TEST_ENV.APP_ENCRYPTION_KEY]) {
      expect(file.json).not.toContain(secret);
    }
  });

  it("shows what is held now: an order redacted since the request is downloaded without the buyer", async () => {
    const ada = await adaRequestOf(SHOP_A);
    const redact = await import("~/routes/webhooks.customers.redact");
    await sendWebhook(redact, "customers/redact", SHOP_A, JSON.stringify({ shop_domain: SHOP_A, customer: { id: ADA.id }, orders_to_redact: [9402] }));
    const document = JSON.parse((await download(SHOP_A, ada.id)).json);
    expect(document.orders.every((order: { personalDataRemovedAt: string | null }) => order.personalDataRemovedAt !== null)).toBe(true);
    for (const value of personalValuesOf(ADA)) expect(JSON.stringify(document.orders)).not.toContain(value);
  });

  it("keeps shops apart: shop B neither lists nor downloads shop A's requests", async () => {
    const viewB = await load(SHOP_B);
    expect(viewB.requests.map((request) => request.customerId)).toEqual([String(BO.id)]);
    const adaRequest = await adaRequestOf(SHOP_A);
    const refused = await thrownResponse(() => download(SHOP_B, adaRequest.id));
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toContain(ADA.email);
    const ownFile = JSON.parse((await download(SHOP_B, viewB.requests[0].id)).json);
    expect(ownFile.orders.map((order: { orderId: string }) => order.orderId)).toEqual(["9501"]);
  });

  it("refuses unknown actions and unknown requests", async () => {
    expect((await thrownResponse(() => download(SHOP_A, "no-such-request"))).status).toBe(404);
    const wrongIntent = adminRequest(SHOP_A, "/app/privacy", { intent: "delete", requestId: "x" });
    expect((await thrownResponse(() => page.action({ request: wrongIntent, params: {}, context: {} }))).status).toBe(400);
    const unauthenticated = new Request(`${TEST_ENV.SHOPIFY_APP_URL}/app/privacy`, { headers: { Authorization: "Bearer not.a.token" } });
    expect((await thrownResponse(() => page.loader({ request: unauthenticated, params: {}, context: {} }))).status).toBe(401);
    expect(await prisma.complianceRequest.count({ where: { shop: SHOP_A, topic: "customers/data_request" } })).toBe(2);
  });
});
