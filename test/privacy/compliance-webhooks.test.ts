/**
 * Shopify's mandatory privacy webhooks and app/uninstalled, through their routes with requests
 * signed the way Shopify signs them, checked row by row in the database: what each topic must
 * change, and that nothing else (another customer, another shop) changes.
 */
import { Prisma } from "@prisma/client";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { startShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import { TEST_ENV } from "../support/test-env";

// Shopify is a stand-in on 127.0.0.1: the app asks it whether it is still installed before an
// uninstall or erasure. The app's fetch must be rerouted before Shopify's library captures it.
const shopify = await startShopifyAdminStandin({ appEnv: TEST_ENV });
process.env.SHOPIFY_ADMIN_STANDIN_URL = shopify.url;
await import("../../scripts/shopify-admin-fetch-preload.mjs");
const { default: prisma } = await import("~/db.server");
const { createConfiguredWorker } = await import("~/background/background-work.server");
const { createBackfillRunner } = await import("~/backfill/backfill.server");
const { logger } = await import("~/logger.server");
const { customerDataHeld } = await import("~/privacy/compliance.server");
const { saveConversionSettings } = await import("~/conversions/receiver.server");
const appUninstalled = await import("~/routes/webhooks.app.uninstalled");
const dataRequest = await import("~/routes/webhooks.customers.data_request");
const customersRedact = await import("~/routes/webhooks.customers.redact");
const ordersCreate = await import("~/routes/webhooks.orders.create");
const ordersPaid = await import("~/routes/webhooks.orders.paid");
const refundsCreate = await import("~/routes/webhooks.refunds.create");
const shopRedact = await import("~/routes/webhooks.shop.redact");
const { shopCli } = await import("../support/cli");
const { configureShop } = await import("../support/outbox");
const { webhookRequest } = await import("../support/shopify-webhooks");
const { refundPayload } = await import("../support/order-lifecycle");
const { ADA, BO, orderBy, personalValuesOf, textsOf } = await import("./buyers");
type Buyer = import("./buyers").Buyer;

const SHOP = "privacy-shop.myshopify.com";
const OTHER_SHOP = "privacy-other.myshopify.com";

const ROUTES = {
  "orders/create": ordersCreate,
  "orders/paid": ordersPaid,
  "refunds/create": refundsCreate,
  "customers/data_request": dataRequest,
  "customers/redact": customersRedact,
  "shop/redact": shopRedact,
  "app/uninstalled": appUninstalled,
} as const;
type Topic = keyof typeof ROUTES;

/** Calls a webhook route as Remix would, turning thrown Responses into returned ones. */
async function send(topic: Topic, shop: string, body: unknown, options: { forgeWith?: string; raw?: string } = {}): Promise<Response> {
  const text = options.raw ?? JSON.stringify(body);
  // Every uninstall and erasure here is a genuine one: Shopify refuses the shop's token by then.
  if (topic === "shop/redact" || topic === "app/uninstalled") shopify.tokens.revoke(shop);
  const request = webhookRequest({ topic, shop, body: text, secret: TEST_ENV.SHOPIFY_API_SECRET, forgeWith: options.forgeWith });
  try {
    return (await ROUTES[topic].action({ request, params: {}, context: {} })) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

/** Every model with a `shop` column, so a table added later is covered without editing this test. */
const SHOP_MODELS = Prisma.dmmf.datamodel.models
  .filter((model) => model.fields.some((field) => field.name === "shop" && field.kind === "scalar"))
  .map((model) => model.name);

type Delegate = { findMany(args: object): Promise<Record<string, unknown>[]> };
const delegateOf = (model: string) => (prisma as unknown as Record<string, Delegate>)[model[0].toLowerCase() + model.slice(1)];

/** Everything stored for a shop, table by table, in a stable order. */
async function everythingOf(shop: string): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const model of SHOP_MODELS) {
    const rows = await delegateOf(model).findMany({ where: { shop } });
    out[model] = rows.sort((a, b) => String(a.id ?? a.shop).localeCompare(String(b.id ?? b.shop)));
  }
  return out;
}

function rowsOf(shop: string) {
  return prisma.delivery.findMany({ where: { shop }, orderBy: { orderId: "asc" }, include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } } });
}

async function rowOf(shop: string, orderId: number) {
  return prisma.delivery.findUniqueOrThrow({
    where: { shop_orderId_kind: { shop, orderId: String(orderId), kind: "order" } },
    include: { deliveryAttempts: { orderBy: { startedAt: "asc" } } },
  });
}

/** An answer of Refersion that quoted the buyer back (as a 422 naming field values might). */
async function addQuotingAttempt(shop: string, orderId: number, buyer: Buyer) {
  const { id } = await rowOf(shop, orderId);
  await prisma.deliveryAttempt.create({
    data: {
      deliveryId: id,
      shop,
      startedAt: new Date(Date.now() - 60_000),
      durationMs: 120,
      statusCode: 422,
      outcome: "permanent",
      error: `Refersion answered 422 for ${buyer.email} from ${buyer.ip}`,
      responseExcerpt: JSON.stringify({ errors: [`customer.first_name ${buyer.firstName} ${buyer.lastName}`, `email ${buyer.email}`] }),
    },
  });
}

async function storeSession(shop: string) {
  shopify.setShop(shop, { accessToken: `shpat_${shop.split(".")[0]}` });
  await prisma.session.create({
    data: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: TEST_ENV.SCOPES, accessToken: `shpat_${shop.split(".")[0]}` },
  });
}

/** The orders of SHOP that were placed by ADA (one could not be mapped, so it names no customer). */
const ADA_ORDERS = [9001, 9002, 9004];

let sandbox: RefersionSandbox;
let clock: Date;

function worker() {
  return createConfiguredWorker({
    now: () => clock,
    random: () => 0.5,
    config: { webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, timeoutMs: 5_000, retryBaseMs: 1_000, leaseMs: 60_000, concurrency: 2, pollMs: 50 },
  });
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
});
afterAll(async () => {
  await sandbox.close();
  await shopify.close();
});

beforeEach(async () => {
  sandbox.reset();
  for (const model of SHOP_MODELS) await (prisma as unknown as Record<string, { deleteMany(): Promise<unknown> }>)[model[0].toLowerCase() + model.slice(1)].deleteMany();
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  await configureShop(OTHER_SHOP, DEFAULT_SANDBOX_KEYS);
  await storeSession(SHOP);
  await storeSession(OTHER_SHOP);

  // ADA bought twice in SHOP and once in OTHER_SHOP; BO once in each shop.
  for (const [shop, buyer, orderId] of [
    [SHOP, ADA, 9001],
    [SHOP, ADA, 9002],
    [SHOP, BO, 9003],
    [OTHER_SHOP, ADA, 9101],
    [OTHER_SHOP, BO, 9102],
  ] as const) {
    expect((await send("orders/create", shop, orderBy(buyer, orderId))).status).toBe(200);
  }
  // An order of ADA that could not be mapped: kept as an excerpt, with no customer id on the row.
  expect((await send("orders/create", SHOP, { ...orderBy(ADA, 9004), line_items: "not a list" })).status).toBe(200);

  // 9001 and 9101 reached Refersion; the others are still queued.
  clock = new Date(Date.now() + 1_000);
  await prisma.delivery.updateMany({ where: { orderId: { notIn: ["9001", "9101"] } }, data: { nextAttemptAt: new Date(clock.getTime() + 3_600_000) } });
  await worker().drain();
  await prisma.delivery.updateMany({ where: { status: "pending" }, data: { nextAttemptAt: clock } });
  await addQuotingAttempt(SHOP, 9001, ADA);
  await addQuotingAttempt(SHOP, 9003, BO);
  await addQuotingAttempt(OTHER_SHOP, 9101, ADA);
  // A merchant's "send past orders" job, in each shop.
  for (const shop of [SHOP, OTHER_SHOP]) await prisma.backfillJob.create({ data: { shop, since: new Date("2026-01-01T00:00:00Z") } });
  // Refersion's conversion webhooks connected in each shop, and the conversion of its delivered order.
  for (const [shop, orderId] of [[SHOP, "9001"], [OTHER_SHOP, "9101"]] as const) {
    await saveConversionSettings(shop, { signingSecret: "whsec_privacy_0123", graceHours: 24 });
    await prisma.conversion.create({ data: { shop, conversionId: `c-${orderId}`, orderId, status: "pending", affiliateName: "Ada Sandbox", commission: "1.00", currency: "USD" } });
  }
  // The checkout pixel's report for an order of each shop.
  for (const [shop, orderId] of [[SHOP, "9002"], [OTHER_SHOP, "9101"]] as const) await prisma.clickHint.create({ data: { shop, orderId, affiliateId: "8908369" } });
  // An order webhook acknowledged on the fast path, not acted on yet, of each shop.
  for (const shop of [SHOP, OTHER_SHOP]) {
    await prisma.receivedWebhook.create({ data: { webhookId: `waiting-${shop}`, shop, topic: "orders/create", apiVersion: "2026-10", payload: "{}" } });
  }
});

describe("the stored rows before any compliance webhook", () => {
  it("hold each buyer's personal data where the tests below look for it", async () => {
    expect(SHOP_MODELS).toEqual(expect.arrayContaining(["Session", "ShopSettings", "Delivery", "DeliveryAttempt", "ComplianceRequest"]));
    const rows = await rowsOf(SHOP);
    expect(rows.map((row) => [row.orderId, row.status])).toEqual([
      ["9001", "delivered"],
      ["9002", "pending"],
      ["9003", "pending"],
      ["9004", "failed"],
    ]);
    // What the mapping reads of the buyer (name, email, IP) is held; the phone and the address
    // (which nothing reads) never were (app/orders/stored-order.ts).
    for (const orderId of [9001, 9002]) {
      const text = textsOf(await rowOf(SHOP, orderId));
      for (const value of [ADA.firstName, ADA.lastName, ADA.email, ADA.ip]) expect(text).toContain(value);
      for (const value of [ADA.phone, ADA.street]) expect(text).not.toContain(value);
    }
    // The unmappable order keeps a bounded excerpt of what Shopify sent, without the buyer, and no customer id.
    const unmappable = await rowOf(SHOP, 9004);
    expect(unmappable.sourceExcerpt).toContain('"line_items":"not a list"');
    for (const value of personalValuesOf(ADA)) expect(unmappable.sourceExcerpt).not.toContain(value);
    expect(unmappable.customerId).toBeNull();
    expect(sandbox.orders().map((request) => request.orderId).sort()).toEqual(["9001", "9101"]);
  });
});

describe("customers/data_request", () => {
  it("is recorded, and what is held for that customer (and only that customer) is available", async () => {
    const before = await everythingOf(SHOP);
    const response = await send("customers/data_request", SHOP, {
      shop_id: 954889,
      shop_domain: SHOP,
      orders_requested: ADA_ORDERS,
      customer: { id: ADA.id, email: ADA.email, phone: ADA.phone },
      data_request: { id: 9999 },
    });
    expect(response.status).toBe(200);

    const [request] = await prisma.complianceRequest.findMany({ where: { shop: SHOP } });
    expect(request).toMatchObject({
      topic: "customers/data_request",
      customerId: String(ADA.id),
      orderIds: "9001,9002,9004",
      outcome: "Stored orders found: 3",
    });
    // Nothing but the request row changed.
    expect({ ...(await everythingOf(SHOP)), ComplianceRequest: [] }).toEqual({ ...before, ComplianceRequest: [] });

    const held = await customerDataHeld(SHOP, { customerId: String(ADA.id), orderIds: ADA_ORDERS.map(String) });
    expect(held.map((entry) => entry.orderId)).toEqual(["9001", "9002", "9004"]);
    const heldText = JSON.stringify(held);
    expect(heldText).toContain(ADA.email);
    expect(heldText).toContain(ADA.ip);
    for (const value of personalValuesOf(BO)) expect(heldText).not.toContain(value);
    // The customer's order in the other shop is that shop's business.
    expect(heldText).not.toContain('"9101"');
    expect(held[0].sentToRefersion).toMatchObject({ order_id: "9001", customer: { email: ADA.email } });

    // The merchant gets the same from the command line.
    const { stdout } = await shopCli(["customer-data", SHOP, String(ADA.id), "--orders", ADA_ORDERS.join(",")], process.env.DATABASE_URL!);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(held)));
    const byIdOnly = JSON.parse((await shopCli(["customer-data", SHOP, String(ADA.id)], process.env.DATABASE_URL!)).stdout) as { orderId: string }[];
    expect(byIdOnly.map((entry) => entry.orderId)).toEqual(["9001", "9002"]);
  });

  it("with a body that cannot be read, is still recorded, with the reason", async () => {
    expect((await send("customers/data_request", SHOP, null, { raw: "{not json" })).status).toBe(200);
    const [request] = await prisma.complianceRequest.findMany({ where: { shop: SHOP } });
    expect(request.topic).toBe("customers/data_request");
    expect(request.outcome).toMatch(/Not acted on: .*not valid JSON.*by hand/);
  });
});

describe("customers/redact", () => {
  it("removes that customer's personal data everywhere it is stored, keeping amounts, items and ids", async () => {
    const before = new Map((await rowsOf(SHOP)).map((row) => [row.orderId, row]));
    const otherCustomerBefore = await rowOf(SHOP, 9003);
    const otherShopBefore = await everythingOf(OTHER_SHOP);

    const response = await send("customers/redact", SHOP, {
      shop_id: 954889,
      shop_domain: SHOP,
      customer: { id: ADA.id, email: ADA.email, phone: ADA.phone },
      orders_to_redact: ADA_ORDERS,
    });
    expect(response.status).toBe(200);

    for (const orderId of ADA_ORDERS) {
      const row = await rowOf(SHOP, orderId);
      const old = before.get(String(orderId))!;
      const text = textsOf(row);
      for (const value of personalValuesOf(ADA)) expect(text, `order ${orderId} still holds ${value}`).not.toContain(value);
      expect(row.personalDataRemovedAt).not.toBeNull();
      expect(row.sourceExcerpt).toBeNull();
      // What the delivery log needs stays.
      expect(row).toMatchObject({
        orderId: old.orderId,
        orderName: old.orderName,
        totalAmount: old.totalAmount,
        currency: old.currency,
        customerId: old.customerId,
        status: old.status,
        attempts: old.attempts,
      });
      expect(row.deliveryAttempts.map((a) => [a.statusCode, a.outcome, a.durationMs])).toEqual(
        old.deliveryAttempts.map((a) => [a.statusCode, a.outcome, a.durationMs]),
      );
      if (old.requestBody) {
        const { customer, ...kept } = JSON.parse(old.requestBody);
        expect(customer).toMatchObject({ email: ADA.email });
        expect(JSON.parse(row.requestBody!)).toEqual(kept);
      }
      // An order that could not be mapped keeps its payload too (for Retry); it is not an order shape.
      if (old.orderPayload && old.reasonCode !== "unmappable") {
        const stored = JSON.parse(row.orderPayload!);
        const original = JSON.parse(old.orderPayload);
        expect(stored.customer).toEqual({ id: ADA.id });
        for (const field of ["id", "name", "total_price", "total_tax", "subtotal_price", "currency", "shipping_lines"]) {
          if (field === "shipping_lines") expect(stored[field].map((line: { price: string }) => line.price)).toEqual(original[field].map((line: { price: string }) => line.price));
          else expect(stored[field]).toEqual(original[field]);
        }
        // Line items stay whole but for their properties' values (engravings, messages).
        type Line = { properties: { name: string; value: string }[] };
        expect(stored.line_items).toEqual(
          original.line_items.map((line: Line) => ({ ...line, properties: line.properties.map((property) => ({ ...property, value: "[removed]" })) })),
        );
        // The engraving the fixture's line carries was never stored: no mapping reads it.
        expect(original.line_items[0].properties).toEqual([]);
        // So do the note attributes' names; their values (a gift message here) go.
        expect(stored.note_attributes).toEqual(original.note_attributes.map((attribute: { name: string }) => ({ ...attribute, value: "[removed]" })));
      }
    }
    for (const attempt of (await rowOf(SHOP, 9001)).deliveryAttempts.filter((a) => a.statusCode === 422)) {
      expect(attempt.responseExcerpt).toContain("[removed]");
      expect(attempt.error).toContain("[removed]");
    }

    // Another customer of the same shop, and the same customer in another shop: untouched.
    expect(await rowOf(SHOP, 9003)).toEqual(otherCustomerBefore);
    expect(await everythingOf(OTHER_SHOP)).toEqual(otherShopBefore);

    const [request] = await prisma.complianceRequest.findMany({ where: { shop: SHOP } });
    expect(request).toMatchObject({ topic: "customers/redact", customerId: String(ADA.id), outcome: "Stored orders with personal data removed: 3" });
  });

  it("leaves a queued order deliverable: Refersion still gets its amounts and items, without the customer", async () => {
    await send("customers/redact", SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [9002] });
    await worker().drain();
    const sent = sandbox.orders().find((request) => request.orderId === "9002");
    expect(sent?.body).toMatchObject({ order_id: "9002", currency_code: "USD" });
    expect((sent!.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect(sent!.body).not.toHaveProperty("customer");
    expect((await rowOf(SHOP, 9002)).status).toBe("delivered");
  });
});

describe("customers/redact, reversals and later webhooks", () => {
  it("cleans every row of the customer's orders, reversals included, with the values of the order row", async () => {
    // A refund of ADA's delivered order: the refund payload names no buyer, but Refersion's
    // answer to it quotes the buyer back, in other letter case and JSON-escaped.
    const refund = refundPayload(orderBy(ADA, 9001), 5001, [{ index: 0, quantity: 1 }]);
    expect((await send("refunds/create", SHOP, refund)).status).toBe(200);
    const reversal = await prisma.delivery.findUniqueOrThrow({ where: { shop_orderId_kind: { shop: SHOP, orderId: "9001", kind: "refund:5001" } } });
    expect(reversal.customerId).toBe(String(ADA.id));
    await prisma.deliveryAttempt.create({
      data: {
        deliveryId: reversal.id,
        shop: SHOP,
        startedAt: new Date(),
        durationMs: 80,
        statusCode: 422,
        outcome: "permanent",
        error: `Refersion answered 422: unknown customer ${ADA.email.toUpperCase()}`,
        responseExcerpt: JSON.stringify({ error: `"${ADA.firstName} ${ADA.lastName}" from ${ADA.ip}` }),
      },
    });
    const otherCustomerBefore = await rowOf(SHOP, 9003);

    // Named by customer id only: the refund row is found through its order.
    expect((await send("customers/redact", SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [] })).status).toBe(200);

    const rows = await prisma.delivery.findMany({ where: { shop: SHOP, orderId: "9001" }, include: { deliveryAttempts: true } });
    expect(rows.map((row) => row.kind).sort()).toEqual(["order", "refund:5001"]);
    for (const row of rows) {
      expect(row.personalDataRemovedAt, row.kind).not.toBeNull();
      const text = textsOf(row).toLowerCase();
      for (const value of [...personalValuesOf(ADA), "Louisville", "40202"]) expect(text, `${row.kind} still holds ${value}`).not.toContain(value.toLowerCase());
    }
    const cleaned = rows.find((row) => row.kind === "refund:5001")!;
    expect(cleaned.status).toBe(reversal.status);
    expect(cleaned.deliveryAttempts[0].error).toBe("Refersion answered 422: unknown customer [removed]");
    // What the reversal sends (items and amounts, no buyer) stays as it was.
    expect(cleaned.requestBody).toBe(reversal.requestBody);
    expect(cleaned.orderPayload).toBe(reversal.orderPayload);
    expect(await rowOf(SHOP, 9003)).toEqual(otherCustomerBefore);
  });

  it("an order redacted while it waited for payment is sent without the buyer when orders/paid brings the buyer back", async () => {
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { forwardTrigger: "paid" } });
    expect((await send("orders/create", SHOP, { ...orderBy(ADA, 9010), financial_status: "pending" })).status).toBe(200);
    expect((await rowOf(SHOP, 9010)).status).toBe("waiting_for_payment");
    expect((await send("customers/redact", SHOP, { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: [9010] })).status).toBe(200);
    const redacted = await rowOf(SHOP, 9010);
    expect(redacted.personalDataRemovedAt).not.toBeNull();

    // Shopify's orders/paid carries the whole order again, buyer and all.
    expect((await send("orders/paid", SHOP, { ...orderBy(ADA, 9010), financial_status: "paid" })).status).toBe(200);
    const released = await rowOf(SHOP, 9010);
    expect(released.status).toBe("pending");
    expect(released.personalDataRemovedAt).toEqual(redacted.personalDataRemovedAt);
    for (const value of personalValuesOf(ADA)) expect(textsOf(released), `the paid order holds ${value}`).not.toContain(value);
    expect(JSON.parse(released.orderPayload!).customer).toEqual({ id: ADA.id });
    expect(released.customerId).toBe(String(ADA.id));

    // The release made the row due at the time it happened: the worker's clock is set after it.
    clock = new Date(Date.now() + 1_000);
    await worker().drain();
    const sent = sandbox.orders().find((request) => request.orderId === "9010");
    expect(sent?.body).toMatchObject({ order_id: "9010" });
    expect(sent!.body).not.toHaveProperty("customer");
  });
});

describe("shop/redact", () => {
  it("deletes everything of that shop, in every table, and nothing of another shop", async () => {
    const otherShopBefore = await everythingOf(OTHER_SHOP);
    const before = await everythingOf(SHOP);
    for (const model of SHOP_MODELS.filter((name) => name !== "ComplianceRequest")) expect(before[model].length, model).toBeGreaterThan(0);
    expect((await send("shop/redact", SHOP, { shop_id: 954889, shop_domain: SHOP })).status).toBe(200);

    const left = await everythingOf(SHOP);
    for (const model of SHOP_MODELS) expect(left[model], `${model} rows of the redacted shop`).toEqual([]);
    expect(await everythingOf(OTHER_SHOP)).toEqual(otherShopBefore);
  });

  it("erases nothing when its body cannot be read (the signature covers the body, not the shop header), and the shop when it can", async () => {
    const before = await everythingOf(SHOP);
    expect((await send("shop/redact", SHOP, null, { raw: "{not json" })).status).toBe(422);
    expect(await everythingOf(SHOP)).toEqual(before);
    expect((await send("shop/redact", SHOP, { shop_id: 954889, shop_domain: SHOP })).status).toBe(200);
    const left = await everythingOf(SHOP);
    for (const model of SHOP_MODELS) expect(left[model], `${model} rows of the redacted shop`).toEqual([]);
    expect((await rowsOf(OTHER_SHOP)).length).toBe(2);
  });
});

describe("app/uninstalled", () => {
  it("deletes the shop's sessions, stops forwarding and what was still to be sent, and keeps the data", async () => {
    // One order still waits for its payment (the shop's "paid" trigger).
    await prisma.delivery.updateMany({ where: { shop: SHOP, orderId: "9002" }, data: { status: "waiting_for_payment" } });
    const ordersBefore = await rowsOf(SHOP);
    expect(ordersBefore.map((row) => row.status)).toEqual(["delivered", "waiting_for_payment", "pending", "failed"]);
    const otherShopBefore = await everythingOf(OTHER_SHOP);
    expect((await send("app/uninstalled", SHOP, { id: 954889, domain: SHOP })).status).toBe(200);

    expect(await prisma.session.count({ where: { shop: SHOP } })).toBe(0);
    const settings = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(settings.uninstalledAt).not.toBeNull();
    // The keys stay until shop/redact: a reinstall forwards again with them.
    expect(settings.secretKeyCiphertext).not.toBeNull();

    const after = await rowsOf(SHOP);
    expect(after.map((row) => row.orderId)).toEqual(ordersBefore.map((row) => row.orderId));
    for (const [index, row] of after.entries()) {
      const old = ordersBefore[index];
      if (["pending", "retrying", "waiting_for_keys", "waiting_for_payment"].includes(old.status)) {
        expect(row.status).toBe("skipped");
        expect(row.reasonCode).toBe("uninstalled_before_delivery");
      } else {
        expect(row.status).toBe(old.status);
      }
      // Kept: the payloads and every attempt.
      expect(row.orderPayload).toBe(old.orderPayload);
      expect(row.requestBody).toBe(old.requestBody);
      expect(row.deliveryAttempts).toEqual(old.deliveryAttempts);
    }

    // Nothing of the shop is sent any more, not even an order arriving after the uninstall.
    expect((await send("orders/create", SHOP, orderBy(BO, 9005))).status).toBe(200);
    expect((await rowOf(SHOP, 9005)).status).toBe("skipped");
    sandbox.reset();
    await worker().drain();
    expect(sandbox.orders().map((request) => request.orderId)).toEqual(["9102"]);

    // The other shop lost nothing (its queued order was delivered just now).
    const otherShopAfter = await everythingOf(OTHER_SHOP);
    expect(otherShopAfter.Session).toEqual(otherShopBefore.Session);
    expect(otherShopAfter.ShopSettings).toEqual(otherShopBefore.ShopSettings);
  });

  it("stops the shop's backfill: a queued or running job is failed with the reason, and no runner takes it up", async () => {
    const [queued] = await prisma.backfillJob.findMany({ where: { shop: SHOP } });
    const running = await prisma.backfillJob.create({
      data: { shop: SHOP, since: new Date("2026-02-01T00:00:00Z"), status: "running", leaseOwner: "backfill-elsewhere", leaseUntil: new Date(Date.now() + 60_000) },
    });
    const done = await prisma.backfillJob.create({ data: { shop: SHOP, since: new Date("2025-12-01T00:00:00Z"), status: "done", finishedAt: new Date() } });
    const otherShopJobs = await prisma.backfillJob.findMany({ where: { shop: OTHER_SHOP } });

    expect((await send("app/uninstalled", SHOP, { id: 954889, domain: SHOP })).status).toBe(200);

    for (const job of [queued, running]) {
      const after = await prisma.backfillJob.findUniqueOrThrow({ where: { id: job.id } });
      expect(after).toMatchObject({ status: "failed", error: "Stopped: the app was uninstalled", leaseOwner: null, leaseUntil: null });
      expect(after.finishedAt).not.toBeNull();
      expect({ processed: after.processed, cursor: after.cursor }).toEqual({ processed: job.processed, cursor: job.cursor });
    }
    expect(await prisma.backfillJob.findUniqueOrThrow({ where: { id: done.id } })).toEqual(done);
    expect(await prisma.backfillJob.findMany({ where: { shop: OTHER_SHOP } })).toEqual(otherShopJobs);

    // The runner that held the job loses it at its next save; no runner claims it again.
    const readers: string[] = [];
    const runner = createBackfillRunner({
      logger,
      readerFor: async (shop) => {
        readers.push(shop);
        throw new Error("not read in this test");
      },
      leaseMs: 60_000,
      pollMs: 50,
    });
    expect(await runner.runOnce(queued.id)).toBeNull();
    expect(await runner.runOnce(running.id)).toBeNull();
    expect(readers).toEqual([]);
  });

  it("is safe when it arrives twice: the first uninstall time is kept", async () => {
    expect((await send("app/uninstalled", SHOP, { id: 954889, domain: SHOP })).status).toBe(200);
    const first = await everythingOf(SHOP);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await send("app/uninstalled", SHOP, { id: 954889, domain: SHOP })).status).toBe(200);
    const second = await everythingOf(SHOP);
    expect(second.ShopSettings[0].uninstalledAt).toEqual(first.ShopSettings[0].uninstalledAt);
    expect(second).toEqual(first);
  });

  it("is safe when it arrives after shop/redact: nothing of the shop comes back", async () => {
    expect((await send("shop/redact", SHOP, { shop_id: 954889, shop_domain: SHOP })).status).toBe(200);
    expect((await send("app/uninstalled", SHOP, { id: 954889, domain: SHOP })).status).toBe(200);
    const left = await everythingOf(SHOP);
    for (const model of SHOP_MODELS) expect(left[model], `${model} rows after a late app/uninstalled`).toEqual([]);
  });
});

describe("forged requests", () => {
  it.each(Object.keys(ROUTES) as Topic[])("%s: a forged HMAC is answered 401 with the reason, and nothing changes", async (topic) => {
    const before = [await everythingOf(SHOP), await everythingOf(OTHER_SHOP)];
    const body =
      topic === "orders/create"
        ? orderBy(ADA, 9010)
        : topic === "app/uninstalled"
          ? { id: 954889, domain: SHOP }
          : { shop_domain: SHOP, customer: { id: ADA.id }, orders_to_redact: ADA_ORDERS, orders_requested: ADA_ORDERS };
    const response = await send(topic, SHOP, body, { forgeWith: "not-the-app-secret" });
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/signature does not match/);
    expect([await everythingOf(SHOP), await everythingOf(OTHER_SHOP)]).toEqual(before);
  });
});
