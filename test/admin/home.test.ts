import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { TEST_ENV } from "../support/test-env";
import { signedAdminRequest, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import type { EmbedFixture } from "../../scripts/shopify-admin-standin";

const harness = await startAdminHarness();
const home = await import("~/routes/app._index");
const { default: prisma } = await import("~/db.server");
const { saveShopSettings } = await import("~/settings/shop-settings.server");
const { insertDelivery } = await import("../support/outbox");
const { forgetShopTimeZones } = await import("~/admin/shop-time-zone.server");

const SHOP = "home-shop.myshopify.com";
const OTHER_SHOP = "home-other.myshopify.com";
const DAY = 86_400_000;

async function loadHome(shop = SHOP) {
  return unwrap(await home.loader({ request: await signedAdminRequest(shop, "/app"), params: {}, context: {} })).data;
}

async function saveKeys(shop = SHOP, keys = DEFAULT_SANDBOX_KEYS) {
  await saveShopSettings(shop, {
    ...keys,
    forwardingEnabled: true,
    currency: "shop",
    forwardTestOrders: false,
    sendCustomerDetails: true,
    autoCreditAffiliate: false,
  });
}

const stateOf = (view: Awaited<ReturnType<typeof loadHome>>) => Object.fromEntries(view.setup.steps.map((step) => [step.id, step.state]));

beforeAll(async () => {
  await harness.install(SHOP);
  await harness.install(OTHER_SHOP);
});
afterAll(() => harness.close());
beforeEach(async () => {
  await prisma.delivery.deleteMany({});
  await prisma.shopSettings.deleteMany({});
  harness.refersion.reset();
  harness.shopify.setShop(SHOP, { embed: "not_added", ianaTimezone: "UTC" });
  forgetShopTimeZones();
});
afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
});

describe("setup checklist", () => {
  it("GIVEN a fresh install THEN every step is to do and the embed button opens the theme editor with the embed on", async () => {
    const view = await loadHome();
    expect(stateOf(view)).toEqual({ keys: "todo", connection: "todo", embed: "todo", pixel: "todo", first_order: "todo" });
    expect(view.setup.completed).toBe(0);
    expect(view.embed.editorUrl).toBe(
      `https://${SHOP}/admin/themes/current/editor?context=apps&template=index&activateAppId=${TEST_ENV.SHOPIFY_API_KEY}/refersion-tracking`,
    );
    expect(view.connection.state).toBe("no_keys");
  });

  it("GIVEN keys, a verified connection, the embed on and a delivered order THEN every step is done", async () => {
    await saveKeys();
    harness.shopify.setShop(SHOP, { embed: "enabled", themeName: "Dawn" });
    await insertDelivery(SHOP, { status: "delivered" });
    const checked = unwrap(
      await home.action({ request: await signedAdminRequest(SHOP, "/app", { intent: "test_connection" }), params: {}, context: {} }),
    ).data;
    expect(checked.intent === "test_connection" && checked.connection.state).toBe("valid");
    // What installing the app, or saving the settings, does (app/attribution/web-pixel.server.ts).
    const { syncCheckoutPixel } = await import("~/attribution/web-pixel.server");
    const { offlineAccess } = await import("~/shopify.server");
    expect(await syncCheckoutPixel(SHOP, offlineAccess.graphqlFor(SHOP), true)).toMatchObject({ status: "connected" });

    const view = await loadHome();
    expect(stateOf(view)).toEqual({ keys: "done", connection: "done", embed: "done", pixel: "done", first_order: "done" });
    expect(view.setup.completed).toBe(5);
    expect(view.setup.steps.find((step) => step.id === "embed")!.description).toContain('"Dawn"');
  });

  it.each<[EmbedFixture, string, RegExp]>([
    ["enabled", "done", /is on/],
    ["base64", "done", /is on/],
    ["disabled", "todo", /switched off/],
    ["not_added", "todo", /App embeds/],
    ["no_settings_file", "todo", /App embeds/],
    ["no_theme", "unknown", /no published theme/],
    ["http_error", "unknown", /could not be read/],
  ])("GIVEN the live theme's embed is %s THEN the step is %s", async (embed, state, words) => {
    harness.shopify.setShop(SHOP, { embed });
    const view = await loadHome();
    const step = view.setup.steps.find((entry) => entry.id === "embed")!;
    expect(step.state).toBe(state);
    expect(step.description).toMatch(words);
    const themeQuery = harness.shopify.requests.filter((entry) => entry.shop === SHOP && entry.operation === "themes").at(-1);
    expect(themeQuery).toBeDefined();
  });

  it("GIVEN keys Refersion rejects THEN the connection step stays to do and says why", async () => {
    await saveKeys(SHOP, { publicKey: DEFAULT_SANDBOX_KEYS.publicKey, secretKey: "sec_not_the_right_one" });
    await home.action({ request: await signedAdminRequest(SHOP, "/app", { intent: "test_connection" }), params: {}, context: {} });
    const view = await loadHome();
    expect(stateOf(view).connection).toBe("todo");
    expect(view.connection.state).toBe("rejected");
    expect(JSON.stringify(view)).not.toContain("sec_not_the_right_one");
  });
});

describe("last 7 days", () => {
  it("counts the shop's orders by status and charts delivered vs failed per day", async () => {
    const now = Date.now();
    const today = new Date(now - 60_000);
    const twoDaysAgo = new Date(now - 2 * DAY);
    await insertDelivery(SHOP, { status: "delivered", createdAt: today });
    await insertDelivery(SHOP, { status: "delivered", createdAt: today });
    await insertDelivery(SHOP, { status: "failed", createdAt: today });
    await insertDelivery(SHOP, { status: "failed", createdAt: twoDaysAgo });
    await insertDelivery(SHOP, { status: "retrying", createdAt: twoDaysAgo });
    await insertDelivery(SHOP, { status: "skipped", createdAt: twoDaysAgo });
    await insertDelivery(SHOP, { status: "delivered", createdAt: new Date(now - 10 * DAY) });
    await insertDelivery(OTHER_SHOP, { status: "failed", createdAt: today });

    const view = await loadHome();
    const counts = Object.fromEntries(view.lastSevenDays.byStatus.map((entry) => [entry.status, entry.count]));
    expect(counts).toMatchObject({ waiting_for_keys: 0, pending: 0, retrying: 1, delivered: 2, failed: 2, skipped: 1 });
    expect(view.lastSevenDays.total).toBe(6);

    expect(view.chart.days).toHaveLength(7);
    const byDay = Object.fromEntries(view.chart.days.map((d) => [d.day, [d.delivered, d.failed]]));
    expect(byDay[today.toISOString().slice(0, 10)]).toEqual([2, 1]);
    expect(byDay[twoDaysAgo.toISOString().slice(0, 10)]).toEqual([0, 1]);
    expect(view.chart.days.at(-1)!.day).toBe(new Date(now).toISOString().slice(0, 10));
    expect(view.chart.days[0].label).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
  });
});

describe("last 7 days' status figures", () => {
  const statusesOf = (view: Awaited<ReturnType<typeof loadHome>>) => view.lastSevenDays.byStatus.map((entry) => entry.status);

  it("GIVEN keys saved and orders sent on creation THEN neither 'Waiting for keys' nor 'Waiting for payment' is a figure", async () => {
    await saveKeys();
    expect(statusesOf(await loadHome())).toEqual(["pending", "retrying", "delivered", "failed", "skipped"]);
  });

  it("GIVEN orders sent once paid THEN 'Waiting for payment' is a figure, even at 0", async () => {
    await saveKeys();
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { forwardTrigger: "paid" } });
    const view = await loadHome();
    expect(statusesOf(view)).toContain("waiting_for_payment");
    expect(view.lastSevenDays.byStatus.find((entry) => entry.status === "waiting_for_payment")!.count).toBe(0);
  });

  it("GIVEN no keys THEN 'Waiting for keys' is a figure; GIVEN orders of a status that no longer applies THEN it still shows them", async () => {
    expect(statusesOf(await loadHome())).toContain("waiting_for_keys");
    await saveKeys();
    await insertDelivery(SHOP, { status: "waiting_for_payment", createdAt: new Date(Date.now() - 60_000) });
    await insertDelivery(SHOP, { status: "waiting_for_keys", createdAt: new Date(Date.now() - 60_000) });
    const counts = Object.fromEntries((await loadHome()).lastSevenDays.byStatus.map((entry) => [entry.status, entry.count]));
    expect(counts).toMatchObject({ waiting_for_payment: 1, waiting_for_keys: 1 });
  });
});

describe("orders, not their reversals", () => {
  it("GIVEN cancellation and refund rows THEN the 7-day counts, the chart and the first-order step leave them out", async () => {
    const now = Date.now();
    const today = new Date(now - 60_000);
    const order = await insertDelivery(SHOP, { status: "failed", createdAt: today });
    await insertDelivery(SHOP, { orderId: order.orderId, kind: "cancel", status: "delivered", createdAt: today });
    await insertDelivery(SHOP, { orderId: order.orderId, kind: "refund:9100001", status: "delivered", createdAt: today });
    await insertDelivery(SHOP, { orderId: order.orderId, kind: "refund:9100002", status: "retrying", createdAt: today });

    const view = await loadHome();
    const counts = Object.fromEntries(view.lastSevenDays.byStatus.map((entry) => [entry.status, entry.count]));
    expect(counts).toMatchObject({ delivered: 0, failed: 1, retrying: 0 });
    expect(view.lastSevenDays.total).toBe(1);
    const byDay = Object.fromEntries(view.chart.days.map((d) => [d.day, [d.delivered, d.failed]]));
    expect(byDay[today.toISOString().slice(0, 10)]).toEqual([0, 1]);
    expect(stateOf(view).first_order).toBe("todo");
  });
});

describe("secrets", () => {
  it("never puts the secret key or its ciphertext in the home page's data", async () => {
    await saveKeys();
    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    const serialized = JSON.stringify(await loadHome());
    expect(serialized).not.toContain(DEFAULT_SANDBOX_KEYS.secretKey);
    expect(serialized).not.toContain(row.secretKeyCiphertext!);
  });
});

async function act(intent: string, shop = SHOP) {
  return unwrap(await home.action({ request: await signedAdminRequest(shop, "/app", { intent }), params: {}, context: {} })).data;
}

describe("is it working?", () => {
  it("GIVEN a fresh install THEN tracking is not live because the keys are missing, and nothing needs attention", async () => {
    const view = await loadHome();
    expect(view.status).toMatchObject({ live: false, headline: "Tracking is not live", sentThisWeek: 0, valueForwarded: null, needsAttention: 0 });
    expect(view.status.why).toMatch(/keys are not saved/);
    expect(view.attention).toEqual([]);
    // No step repeats another's words: only the first says to copy the keys into Settings.
    const descriptions = view.setup.steps.map((step) => step.description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
    expect(descriptions.filter((text) => /public and secret key/.test(text))).toHaveLength(1);
  });

  it("GIVEN a working setup THEN tracking is live, with this week's orders sent and their value", async () => {
    await saveKeys();
    harness.shopify.setShop(SHOP, { embed: "enabled" });
    const now = Date.now();
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "10.25", currency: "USD", createdAt: new Date(now - 60_000) });
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "4.75", currency: "USD", createdAt: new Date(now - 2 * DAY) });
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "8.00", currency: "EUR", createdAt: new Date(now - 3 * DAY) });
    await insertDelivery(SHOP, { status: "delivered", totalAmount: "99.00", currency: "USD", createdAt: new Date(now - 20 * DAY) });
    const view = await loadHome();
    expect(view.status).toMatchObject({ live: true, headline: "Tracking is live", why: null, sentThisWeek: 3, valueForwarded: "€8.00 + $15.00", needsAttention: 0 });
  });

  it("GIVEN failed, retrying and waiting orders, forwarding off and orders arriving with the embed off THEN each needs attention, with where to go", async () => {
    await saveShopSettings(SHOP, { ...DEFAULT_SANDBOX_KEYS, forwardingEnabled: false, currency: "shop", forwardTestOrders: false, sendCustomerDetails: true, autoCreditAffiliate: false });
    harness.shopify.setShop(SHOP, { embed: "disabled" });
    await insertDelivery(SHOP, { status: "failed" });
    await insertDelivery(SHOP, { status: "failed", kind: "cancel" });
    await insertDelivery(SHOP, { status: "retrying" });
    await insertDelivery(SHOP, { status: "waiting_for_keys" });
    const view = await loadHome();
    expect(view.attention.map((item) => [item.id, item.title])).toEqual([
      ["failed", "2 orders failed"],
      ["retrying", "1 order waiting for another try"],
      ["waiting_for_keys", "1 order waiting for your keys"],
      ["forwarding_off", "Forwarding is off"],
      ["embed_off", "Orders are arriving while tracking is off in your theme"],
    ]);
    expect(view.attention[0].action).toEqual({ content: "Review failed orders", app: { path: "/app/deliveries", query: { status: "failed" } } });
    // Each banner's sentence agrees with its count: "them" for two failed orders, "it" for one retrying.
    expect(view.attention[0].detail).toMatch(/^Refersion did not take them and the app stopped trying/);
    expect(view.attention[1].detail).toMatch(/^Refersion did not take it yet\./);
    expect(view.attention[4].action).toEqual({ content: "Turn on in theme editor", external: view.embed.editorUrl });
    expect(view.status).toMatchObject({ live: false, needsAttention: 4 });
    expect(view.status.why).toMatch(/forwarding is off/);
  });

  it("GIVEN order webhooks received from Shopify that failed to be acted on THEN the home page says so, for this shop only", async () => {
    await prisma.receivedWebhook.deleteMany({});
    const received = (webhookId: string, shop: string, attempts: number) =>
      prisma.receivedWebhook.create({
        data: { webhookId, shop, topic: "orders/create", apiVersion: "2025-01", payload: "{}", attempts, lastError: attempts > 0 ? "database is locked" : null },
      });
    await received("home-failing-1", SHOP, 3);
    await received("home-failing-2", SHOP, 1);
    // Not tried yet: it is acted on a moment after it arrived, nothing to tell.
    await received("home-waiting", SHOP, 0);
    await received("home-other-failing", OTHER_SHOP, 2);
    try {
      const view = await loadHome();
      const item = view.attention.find((candidate) => candidate.id === "received_webhooks_failing");
      expect(item).toMatchObject({
        tone: "warning",
        title: "2 order webhooks received from Shopify could not be processed yet; the app keeps trying",
        action: null,
      });
      expect(item!.detail).toMatch(/^They are kept and processed as soon as the problem clears/);
      await prisma.receivedWebhook.deleteMany({ where: { webhookId: "home-failing-2" } });
      expect((await loadHome()).attention.find((candidate) => candidate.id === "received_webhooks_failing")?.title).toBe(
        "1 order webhook received from Shopify could not be processed yet; the app keeps trying",
      );
      expect((await loadHome(OTHER_SHOP)).attention.map((candidate) => candidate.id)).toContain("received_webhooks_failing");
    } finally {
      await prisma.receivedWebhook.deleteMany({});
    }
  });
});

describe("setup guide", () => {
  it.each(["unreachable", "plan_unavailable"] as const)(
    "GIVEN a delivered order and a last test that was %s THEN the connection step stays done",
    async (connectionStatus) => {
      await saveKeys();
      await insertDelivery(SHOP, { status: "delivered" });
      await prisma.shopSettings.update({ where: { shop: SHOP }, data: { connectionStatus, connectionCheckedAt: new Date() } });
      const view = await loadHome();
      expect(stateOf(view).connection).toBe("done");
      expect(view.setup.steps.find((step) => step.id === "connection")!.description).toMatch(/received orders sent with your keys/);
    },
  );

  it("GIVEN no delivered order yet and Refersion down during the test THEN the step could not be checked, not to do", async () => {
    await saveKeys();
    harness.refersion.setBehavior({ mode: "fail" }, "api");
    await act("test_connection");
    expect(stateOf(await loadHome()).connection).toBe("unknown");
  });

  it("GIVEN keys Refersion rejects after orders went through THEN the step is to do again", async () => {
    await saveKeys();
    await insertDelivery(SHOP, { status: "delivered" });
    await prisma.shopSettings.update({ where: { shop: SHOP }, data: { connectionStatus: "rejected", connectionCheckedAt: new Date() } });
    expect(stateOf(await loadHome()).connection).toBe("todo");
  });

  it("is complete when every step is done, and once dismissed stays dismissed for the shop only", async () => {
    await saveKeys();
    harness.shopify.setShop(SHOP, { embed: "enabled" });
    await insertDelivery(SHOP, { status: "delivered" });
    const { syncCheckoutPixel } = await import("~/attribution/web-pixel.server");
    const { offlineAccess } = await import("~/shopify.server");
    await syncCheckoutPixel(SHOP, offlineAccess.graphqlFor(SHOP), true);
    expect((await loadHome()).setup).toMatchObject({ complete: true, completed: 5, dismissed: false });
    expect(await act("dismiss_setup_guide")).toEqual({ intent: "dismiss_setup_guide" });
    await act("dismiss_setup_guide");
    expect((await loadHome()).setup.dismissed).toBe(true);
    expect((await loadHome(OTHER_SHOP)).setup.dismissed).toBe(false);
  });

  it("can be dismissed before any settings are saved, which saves no keys and keeps forwarding on", async () => {
    await act("dismiss_setup_guide");
    const view = await loadHome();
    expect(view.setup.dismissed).toBe(true);
    expect(view.hasKeys).toBe(false);
    expect(view.forwardingEnabled).toBe(true);
  });

  it("refuses an unknown intent with 400", async () => {
    const error = await home.action({ request: await signedAdminRequest(SHOP, "/app", { intent: "drop_tables" }), params: {}, context: {} }).catch((thrown: unknown) => thrown);
    expect((error as Response).status).toBe(400);
  });
});

describe("the shop's time zone", () => {
  it("GIVEN a shop in Kolkata THEN days are the shop's, and a resent past order counts on the day it was placed", async () => {
    harness.shopify.setShop(SHOP, { ianaTimezone: "Asia/Kolkata" });
    const now = new Date();
    const asked = () => harness.shopify.requests.filter((entry) => entry.shop === SHOP && entry.operation === "shop" && entry.at >= now.getTime()).length;
    const kolkataDay = (date: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(date);
    // Resent today, placed three days ago: charted three days ago.
    const placed = new Date(now.getTime() - 3 * DAY);
    await insertDelivery(SHOP, { status: "delivered", createdAt: new Date(now.getTime() - 60_000), orderPlacedAt: placed });
    // Resent today, placed a month ago: not in the last 7 days at all.
    await insertDelivery(SHOP, { status: "delivered", createdAt: new Date(now.getTime() - 60_000), orderPlacedAt: new Date(now.getTime() - 30 * DAY) });
    const view = await loadHome();
    expect(view.timeZone).toBe("Asia/Kolkata");
    expect(view.chart.days.at(-1)!.day).toBe(kolkataDay(now));
    const byDay = Object.fromEntries(view.chart.days.map((d) => [d.day, d.delivered]));
    expect(byDay[kolkataDay(placed)]).toBe(1);
    expect(view.chart.days.reduce((sum, d) => sum + d.delivered, 0)).toBe(1);
    expect(view.status.sentThisWeek).toBe(1);

    // A past order resent through the intake: its row is new, the day is the one it was placed.
    const { acceptOrderWebhook } = await import("~/orders/intake.server");
    const { orderFixture, DOCS_ORDER } = await import("../support/fixtures");
    await saveKeys();
    const pastPlaced = new Date(now.getTime() - 5 * DAY);
    const past = { ...orderFixture(DOCS_ORDER), id: 5_990_001, admin_graphql_api_id: "gid://shopify/Order/5990001", created_at: pastPlaced.toISOString() };
    expect((await acceptOrderWebhook({ shop: SHOP, payload: past, source: "backfill", webhookId: null })).outcome).toBe("queued");
    const row = await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "5990001" } });
    expect(row.orderPlacedAt?.toISOString()).toBe(pastPlaced.toISOString());
    await prisma.delivery.update({ where: { id: row.id }, data: { status: "delivered" } });
    const withPast = Object.fromEntries((await loadHome()).chart.days.map((d) => [d.day, d.delivered]));
    expect(withPast[kolkataDay(pastPlaced)]).toBe(1);
    expect(withPast[kolkataDay(now)]).toBe(0);

    // Asked once, then kept.
    await loadHome();
    expect(asked()).toBe(1);
  });
});
