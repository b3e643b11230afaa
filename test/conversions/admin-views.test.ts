import { signedAdminRequest, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";

/** The admin's loaders and the settings section's action, for conversion webhooks. */
const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const home = await import("~/routes/app._index");
const log = await import("~/routes/app.deliveries._index");
const detailPage = await import("~/routes/app.deliveries.$id");
const settings = await import("~/routes/app.settings");
const conversionSettings = await import("~/routes/app.conversion-webhooks");
const { insertDelivery } = await import("../support/outbox");
const { recordConversion } = await import("~/conversions/store.server");
const { TEST_ENV } = await import("../support/test-env");

const SHOP = "views-shop.myshopify.com";
const OTHER = "views-other.myshopify.com";
const SECRET = "whsec_views_0123456789";

type RouteArgs = Parameters<typeof home.loader>[0];
const call = async <T>(handler: (args: RouteArgs) => Promise<T>, request: Request) => unwrap(await handler({ request, params: {}, context: {} }));

beforeAll(async () => {
  await harness.install(SHOP);
  await harness.install(OTHER);
});
afterAll(() => harness.close());
beforeEach(async () => {
  await prisma.delivery.deleteMany();
  await prisma.conversion.deleteMany();
  await prisma.conversionReceiver.deleteMany();
});

function conversion(orderId: string, status: "pending" | "approved" | "denied", conversionId = orderId) {
  return {
    conversionId,
    orderId,
    status,
    deniedReason: status === "denied" ? "Self-referral" : null,
    affiliateId: "8908369",
    affiliateCode: "ada1",
    affiliateName: "Ada Sandbox",
    commission: "5.00",
    total: "50.00",
    currency: "USD",
    test: false,
    refersionCreatedAt: new Date(),
    refersionUpdatedAt: new Date(),
  };
}

describe("Settings > Conversion webhooks", () => {
  it("shows the shop's own receiver URL, takes the signing secret write-only, and refuses bad input with field errors", async () => {
    const first = (await call(settings.loader, await signedAdminRequest(SHOP, "/app/settings"))).data.conversionWebhooks;
    expect(first.url).toMatch(new RegExp(`^${TEST_ENV.SHOPIFY_APP_URL}/refersion/conversions/[A-Za-z0-9_-]{43}$`));
    expect(first).toMatchObject({ secretSet: false, connected: false, graceHours: 24, lastReceived: null });
    const again = (await call(settings.loader, await signedAdminRequest(SHOP, "/app/settings"))).data.conversionWebhooks;
    expect(again.url).toBe(first.url);
    const other = (await call(settings.loader, await signedAdminRequest(OTHER, "/app/settings"))).data.conversionWebhooks;
    expect(other.url).not.toBe(first.url);

    const refused = await call(conversionSettings.action, await signedAdminRequest(SHOP, "/app/conversion-webhooks", { signingSecret: "short", graceHours: "0" }));
    expect(refused.status).toBe(400);
    expect(refused.data.errors).toEqual({ signingSecret: expect.stringMatching(/too short/), graceHours: "At least 1 hour" });

    const saved = await call(conversionSettings.action, await signedAdminRequest(SHOP, "/app/conversion-webhooks", { signingSecret: ` ${SECRET} `, graceHours: "48" }));
    expect(saved.data.ok).toBe(true);
    const view = (await call(settings.loader, await signedAdminRequest(SHOP, "/app/settings"))).data;
    expect(view.conversionWebhooks).toMatchObject({ secretSet: true, secretLast4: SECRET.slice(-4), graceHours: 48, connected: true });
    expect(JSON.stringify(view)).not.toContain(SECRET);
    // An empty secret keeps the saved one.
    await call(conversionSettings.action, await signedAdminRequest(SHOP, "/app/conversion-webhooks", { signingSecret: "", graceHours: "24" }));
    expect((await prisma.conversionReceiver.findUniqueOrThrow({ where: { shop: SHOP } })).secretLast4).toBe(SECRET.slice(-4));
  });
});

describe("Settings > Conversion webhooks, in the shop's time", () => {
  it("shows when the last conversion webhook arrived in the shop's time zone", async () => {
    const shop = "views-tokyo.myshopify.com";
    await harness.install(shop, { ianaTimezone: "Asia/Tokyo" });
    await call(conversionSettings.action, await signedAdminRequest(shop, "/app/conversion-webhooks", { signingSecret: SECRET, graceHours: "24" }));
    const at = new Date("2026-12-05T20:30:00Z");
    await prisma.conversionReceiver.update({ where: { shop }, data: { lastReceivedAt: at } });
    const view = (await call(settings.loader, await signedAdminRequest(shop, "/app/settings"))).data.conversionWebhooks;
    const { formatDateTime } = await import("~/admin/format");
    // Dec 6, 5:30 AM in Tokyo: the day differs from UTC's.
    expect(view.lastReceived).toBe(formatDateTime(at, "Asia/Tokyo"));
    expect(view.lastReceived).not.toBe(formatDateTime(at, "UTC"));
  });
});

describe("the delivery log's Not credited filter", () => {
  it("lists exactly the orders whose cell says no affiliate click: not those waiting, nor those sent before connecting", async () => {
    const shop = "views-not-credited.myshopify.com";
    await harness.install(shop);
    await call(conversionSettings.action, await signedAdminRequest(shop, "/app/conversion-webhooks", { signingSecret: SECRET, graceHours: "24" }));
    const HOUR = 3_600_000;
    const connectedAt = new Date(Date.now() - 100 * HOUR);
    await prisma.conversionReceiver.update({ where: { shop }, data: { connectedAt } });
    const deliveredAt = { before: new Date(connectedAt.getTime() - HOUR), past: new Date(connectedAt.getTime() + HOUR), waiting: new Date(Date.now() - HOUR) };
    for (const [orderName, at] of Object.entries(deliveredAt)) await insertDelivery(shop, { orderId: orderName, orderName, status: "delivered", deliveredAt: at });

    const load = async (query = "") => (await call(log.loader, await signedAdminRequest(shop, `/app/deliveries${query}`))).data;
    const cells = Object.fromEntries((await load()).rows.map((row) => [row.order, row.affiliate?.kind]));
    expect(cells).toEqual({ before: "before_connection", past: "no_affiliate_click", waiting: "waiting" });
    expect((await load("?affiliate=not_credited")).rows.map((row) => row.order)).toEqual(["past"]);
  });
});

describe("the delivery log's Affiliate column and filter", () => {
  it("shows each order's outcome and filters credited, not credited and denied, for the shop only", async () => {
    for (const [orderId, status] of [["1", "approved"], ["2", "pending"], ["3", "denied"]] as const) {
      await insertDelivery(SHOP, { orderId, orderName: `#${orderId}`, status: "delivered", deliveredAt: new Date() });
      await recordConversion(SHOP, conversion(orderId, status));
    }
    await insertDelivery(SHOP, { orderId: "4", orderName: "#4", status: "delivered", deliveredAt: new Date() });
    await insertDelivery(SHOP, { orderId: "5", orderName: "#5", status: "failed" });
    // Another shop's conversion of the same order id changes nothing here.
    await recordConversion(OTHER, conversion("4", "approved"));

    const load = async (query = "") => (await call(log.loader, await signedAdminRequest(SHOP, `/app/deliveries${query}`))).data;
    const all = await load();
    const cells = Object.fromEntries(all.rows.map((row) => [row.order, row.affiliate?.label]));
    expect(cells).toEqual({ "#1": "Approved", "#2": "Pending", "#3": "Denied", "#4": "Not connected", "#5": "Not sent" });
    const orders = async (filter: string) => (await load(`?affiliate=${filter}`)).rows.map((row) => row.order).sort();
    expect(await orders("credited")).toEqual(["#1", "#2"]);
    expect(await orders("denied")).toEqual(["#3"]);
    // Not connected: "#4" cannot be told "no affiliate click", so it is not listed as not credited.
    expect(await orders("not_credited")).toEqual([]);
    expect((await load("?affiliate=nonsense")).affiliate).toBeNull();

    // The delivery's page shows the conversion.
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "3" } });
    const request = await signedAdminRequest(SHOP, `/app/deliveries/${row.id}`);
    const detail = unwrap(await detailPage.loader({ request, params: { id: row.id }, context: {} })).data;
    expect(detail.conversion).toMatchObject({
      outcome: { label: "Denied", affiliate: "Ada Sandbox (ada1)", commission: "$5.00" },
      deniedReason: "Self-referral",
      conversionId: "3",
    });
    // Another shop asking for this row finds nothing.
    const { loadConversionDetail } = await import("~/admin/conversions-view.server");
    expect(await loadConversionDetail(OTHER, row.id)).toBeNull();
  });
});

describe("home", () => {
  it("without conversion webhooks says so; with them, counts what Refersion credited", async () => {
    const before = (await call(home.loader, await signedAdminRequest(SHOP, "/app"))).data;
    expect(before.conversionOutcomes.connected).toBe(false);

    await call(conversionSettings.action, await signedAdminRequest(SHOP, "/app/conversion-webhooks", { signingSecret: SECRET, graceHours: "24" }));
    for (const orderId of ["11", "12", "13", "14"]) await insertDelivery(SHOP, { orderId, status: "delivered", deliveredAt: new Date() });
    await recordConversion(SHOP, conversion("11", "approved"));
    await recordConversion(SHOP, conversion("12", "pending"));
    const after = (await call(home.loader, await signedAdminRequest(SHOP, "/app"))).data.conversionOutcomes;
    expect(after.connected).toBe(true);
    expect(after.periods.map((period) => [period.days, period.forwarded, period.credited, period.rate])).toEqual([
      [7, 4, 2, "50%"],
      [30, 4, 2, "50%"],
    ]);
  });

  it("leaves orders delivered before conversion webhooks were connected out of the rate, and counts them apart", async () => {
    // Delivered yesterday, before the merchant connected conversion webhooks: the app cannot know.
    const yesterday = new Date(Date.now() - 24 * 60 * 60 * 1000);
    for (const orderId of ["21", "22", "23"]) await insertDelivery(SHOP, { orderId, status: "delivered", deliveredAt: yesterday });
    await call(conversionSettings.action, await signedAdminRequest(SHOP, "/app/conversion-webhooks", { signingSecret: SECRET, graceHours: "24" }));
    for (const orderId of ["24", "25"]) await insertDelivery(SHOP, { orderId, status: "delivered", deliveredAt: new Date(Date.now() + 1_000) });
    await recordConversion(SHOP, conversion("24", "approved"));
    // An order from before the connection that Refersion reports on later counts like any other.
    await recordConversion(SHOP, conversion("21", "approved"));
    const view = (await call(home.loader, await signedAdminRequest(SHOP, "/app"))).data.conversionOutcomes;
    expect(view.periods[0]).toMatchObject({ forwarded: 5, credited: 2, beforeConnection: 2, waiting: 1, rate: "67%" });
  });
});
