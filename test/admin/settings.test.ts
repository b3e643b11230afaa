import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { TEST_ENV } from "../support/test-env";
import { signedAdminRequest, thrownResponse, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";
import { APP_INSTALLATION_ID } from "../../scripts/shopify-admin-standin";

// The network boundary first; app modules only after it (see startAdminHarness).
const harness = await startAdminHarness();
const { loader, action } = await import("~/routes/app.settings");
const { default: prisma } = await import("~/db.server");
const { acceptOrderWebhook } = await import("~/orders/intake.server");
const { orderFixture } = await import("../support/fixtures");

const SHOP = "settings-shop.myshopify.com";
const OTHER_SHOP = "other-settings-shop.myshopify.com";
const KEYS = DEFAULT_SANDBOX_KEYS;

function saveForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    intent: "save",
    publicKey: KEYS.publicKey,
    secretKey: KEYS.secretKey,
    forwardingEnabled: "true",
    currency: "shop",
    forwardTestOrders: "false",
    sendCustomerDetails: "true",
    autoCreditAffiliate: "false",
    ...overrides,
  };
}

async function save(shop: string, overrides: Record<string, string> = {}) {
  return unwrap(await action({ request: await signedAdminRequest(shop, "/app/settings", saveForm(overrides)), params: {}, context: {} }));
}

async function load(shop: string) {
  return unwrap(await loader({ request: await signedAdminRequest(shop, "/app/settings"), params: {}, context: {} })).data;
}

async function testConnection(shop: string) {
  return unwrap(await action({ request: await signedAdminRequest(shop, "/app/settings", { intent: "test_connection" }), params: {}, context: {} })).data;
}

beforeAll(async () => {
  await harness.install(SHOP);
  await harness.install(OTHER_SHOP);
});

afterAll(async () => {
  await harness.close();
});

beforeEach(async () => {
  await prisma.shopSettings.deleteMany({});
  await prisma.delivery.deleteMany({});
  harness.refersion.reset();
  harness.shopify.setShop(SHOP, { metafields: "ok" });
});

afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
});

describe("settings page: loading", () => {
  it("GIVEN a shop that never saved settings WHEN the page loads THEN it shows the defaults and asks for keys", async () => {
    const view = await load(SHOP);
    expect(view.settings).toEqual({
      publicKey: "",
      secretKeySet: false,
      secretKeyLast4: null,
      forwardingEnabled: true,
      currency: "shop",
      forwardTestOrders: false,
      sendCustomerDetails: true,
      autoCreditAffiliate: false,
      forwardTrigger: "created",
      reverseCancellations: true,
      reverseRefunds: true,
      clickDataWaitMinutes: 5,
    });
    expect(view.connection.state).toBe("no_keys");
  });

  it.each([
    ["is not a token", async () => new Request(`${TEST_ENV.SHOPIFY_APP_URL}/app/settings`, { headers: { Authorization: "Bearer not-a-token" } })],
    ["is signed with another app's secret", () => signedAdminRequest(SHOP, "/app/settings", undefined, { apiSecretKey: "another-apps-secret-0123456789" })],
  ])("rejects a request whose session token %s", async (_case, makeRequest) => {
    const request = await makeRequest();
    const response = await thrownResponse(() => loader({ request, params: {}, context: {} }));
    expect(response.status).toBe(401);
  });
});

describe("settings page: saving", () => {
  it("GIVEN valid keys with stray whitespace WHEN saved THEN they are trimmed, the secret is sealed and only its last 4 are shown", async () => {
    const result = await save(SHOP, { publicKey: `  ${KEYS.publicKey}\t`, secretKey: ` ${KEYS.secretKey}  `, currency: "presentment" });
    expect(result.status).toBe(200);
    expect(result.data).toMatchObject({ intent: "save", ok: true, released: 0, storefrontWarning: null });

    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(row.publicKey).toBe(KEYS.publicKey);
    expect(row.secretKeyLast4).toBe(KEYS.secretKey.slice(-4));
    expect(row.secretKeyCiphertext).not.toContain(KEYS.secretKey);
    expect(row.currency).toBe("presentment");

    const view = await load(SHOP);
    expect(view.settings).toMatchObject({ publicKey: KEYS.publicKey, secretKeySet: true, secretKeyLast4: KEYS.secretKey.slice(-4) });
    const serialized = JSON.stringify(view) + JSON.stringify(result.data);
    expect(serialized).not.toContain(KEYS.secretKey);
    expect(serialized).not.toContain(row.secretKeyCiphertext!);
  });

  it("saves the wait for click data, turns the checkout pixel on, and off again with forwarding", async () => {
    await save(SHOP, { clickDataWaitMinutes: "12" });
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toMatchObject({ clickDataWaitMinutes: 12, pixelStatus: "connected", pixelProblem: null });
    expect(JSON.parse(harness.shopify.webPixelOf(SHOP)!.settings)).toEqual({ reportUrl: `${TEST_ENV.SHOPIFY_APP_URL}/pixel/checkout-completed` });
    await save(SHOP, { forwardingEnabled: "false" });
    expect(harness.shopify.webPixelOf(SHOP)).toBeNull();
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toMatchObject({ clickDataWaitMinutes: 12, pixelStatus: "removed" });
  });

  it("GIVEN Shopify refusing the pixel THEN the settings are saved all the same and the pixel is recorded as not connected", async () => {
    harness.shopify.setShop(SHOP, { pixelScopes: false });
    try {
      const result = await save(SHOP, { clickDataWaitMinutes: "3" });
      expect(result.status ?? 200).toBe(200);
      expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toMatchObject({ clickDataWaitMinutes: 3, pixelStatus: "not_connected", pixelProblem: "access_denied" });
    } finally {
      harness.shopify.setShop(SHOP, { pixelScopes: true });
    }
  });

  it("writes the public key and the forwarding flag to the app installation's metafields", async () => {
    const before = harness.shopify.metafieldWrites(SHOP).length;
    await save(SHOP, { forwardingEnabled: "false" });
    const writes = harness.shopify.metafieldWrites(SHOP);
    expect(writes).toHaveLength(before + 1);
    expect(writes.at(-1)).toEqual([
      { ownerId: APP_INSTALLATION_ID, namespace: "refersion", key: "public_key", type: "single_line_text_field", value: KEYS.publicKey },
      { ownerId: APP_INSTALLATION_ID, namespace: "refersion", key: "forwarding_enabled", type: "boolean", value: "false" },
    ]);
    expect(JSON.stringify(harness.shopify.requests)).not.toContain(KEYS.secretKey);
  });

  it.each([
    ["publicKey", { publicKey: "has spaces inside" }],
    ["publicKey", { publicKey: "   " }],
    ["secretKey", { secretKey: "semi;colon" }],
    ["secretKey", { secretKey: "sec_short" }],
    ["currency", { currency: "euro" }],
    ["clickDataWaitMinutes", { clickDataWaitMinutes: "-1" }],
    ["clickDataWaitMinutes", { clickDataWaitMinutes: "61" }],
    ["clickDataWaitMinutes", { clickDataWaitMinutes: "2.5" }],
    ["clickDataWaitMinutes", { clickDataWaitMinutes: "five" }],
    ["clickDataWaitMinutes", { clickDataWaitMinutes: "" }],
  ])("GIVEN an invalid %s WHEN saved THEN the field has an error and nothing is saved", async (field, overrides) => {
    await save(SHOP);
    const before = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    const writesBefore = harness.shopify.metafieldWrites(SHOP).length;

    const result = await save(SHOP, { ...overrides, forwardTestOrders: "true" });
    expect(result.status).toBe(400);
    expect(result.data).toMatchObject({ intent: "save", ok: false });
    expect(Object.keys((result.data as { errors: object }).errors)).toEqual([field]);

    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toEqual(before);
    expect(harness.shopify.metafieldWrites(SHOP)).toHaveLength(writesBefore);
  });

  it("GIVEN a secret too short to be a Refersion key THEN its field says so, since its last 4 would give most of it away", async () => {
    const result = await save(SHOP, { secretKey: "  sec_1234  " });
    expect(result.status).toBe(400);
    expect(result.data).toMatchObject({ ok: false, errors: { secretKey: expect.stringMatching(/too short.*at least 10 characters/) } });
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
    expect((await save(SHOP, { secretKey: "sec_123456" })).status).toBe(200);
  });

  it("GIVEN no saved secret WHEN saved without one THEN the secret field asks for it and nothing is saved", async () => {
    const result = await save(SHOP, { secretKey: "" });
    expect(result.status).toBe(400);
    expect(result.data).toMatchObject({ ok: false, errors: { secretKey: "Enter your Refersion secret key" } });
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
  });

  it("keeps the saved secret when the field is left empty, and replaces it when a new one is given", async () => {
    await save(SHOP);
    const first = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });

    await save(SHOP, { secretKey: "", sendCustomerDetails: "false" });
    const kept = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(kept.secretKeyCiphertext).toBe(first.secretKeyCiphertext);
    expect(kept.sendCustomerDetails).toBe(false);

    await save(SHOP, { secretKey: "sec_replaced_key_9876" });
    const replaced = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(replaced.secretKeyCiphertext).not.toBe(first.secretKeyCiphertext);
    expect((await load(SHOP)).settings.secretKeyLast4).toBe("9876");
  });

  it("GIVEN orders that arrived before the keys WHEN keys are saved THEN they are queued for delivery", async () => {
    const order = { ...orderFixture("shopify-docs-order-1001-2026-07.json"), id: 5550001, admin_graphql_api_id: "gid://shopify/Order/5550001" };
    const intake = await acceptOrderWebhook({ shop: SHOP, payload: order, webhookId: "w-5550001" });
    expect(intake.outcome).toBe("waiting_for_keys");

    const result = await save(SHOP, { forwardTestOrders: "true" });
    expect(result.data).toMatchObject({ ok: true, released: 1 });
    const row = await prisma.delivery.findUniqueOrThrow({ where: { id: intake.deliveryId! } });
    expect(row.status).toBe("pending");
  });

  it.each(["user_error", "http_error"] as const)(
    "GIVEN Shopify refuses the metafields (%s) WHEN saved THEN the settings stay saved and a warning is shown",
    async (mode) => {
      harness.shopify.setShop(SHOP, { metafields: mode });
      const result = await save(SHOP);
      expect(result.status).toBe(200);
      expect(result.data).toMatchObject({ ok: true });
      expect((result.data as { storefrontWarning: string }).storefrontWarning).toMatch(/settings are saved/i);
      expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).publicKey).toBe(KEYS.publicKey);
    },
  );

  it("takes the shop from the session, never from the form", async () => {
    await save(SHOP, { shop: OTHER_SHOP });
    expect(await prisma.shopSettings.findUnique({ where: { shop: OTHER_SHOP } })).toBeNull();
    expect((await load(OTHER_SHOP)).settings.secretKeySet).toBe(false);
  });

  it("refuses an unknown intent", async () => {
    const request = await signedAdminRequest(SHOP, "/app/settings", { intent: "delete_everything" });
    const response = await thrownResponse(() => action({ request, params: {}, context: {} }));
    expect(response.status).toBe(400);
  });
});

describe("settings page: test connection", () => {
  it("GIVEN no keys THEN it says to save them first and calls nobody", async () => {
    const result = await testConnection(SHOP);
    expect(result).toMatchObject({ intent: "test_connection", connection: { state: "no_keys" } });
    expect(harness.refersion.received).toHaveLength(0);
  });

  it.each([
    ["ok", "valid", "success", /accepted/],
    ["reject", "rejected", "critical", /rejected/],
    ["plan_unavailable", "plan_unavailable", "warning", /webhook keys may still work/],
    ["fail", "unreachable", "warning", /did not answer/],
  ] as const)("GIVEN Refersion answers in mode %s THEN the outcome is %s, stored, and worded plainly", async (mode, state, tone, words) => {
    // Saving the keys tested them (with the same answer, so that no earlier outcome stays: an
    // unreachable Refersion does not undo keys it accepted); this test is about the button's own check.
    harness.refersion.setBehavior({ mode }, "api");
    await save(SHOP);
    harness.refersion.reset();
    harness.refersion.setBehavior({ mode }, "api");
    const result = (await testConnection(SHOP)) as { connection: { state: string; tone: string; title: string; message: string; checkedAt: string | null } };
    expect(result.connection).toMatchObject({ state, tone });
    expect(result.connection.message).toMatch(words);
    // Plain words: no status code in what the merchant reads.
    expect(`${result.connection.title} ${result.connection.message}`).not.toMatch(/\b[1-5]\d\d\b/);
    expect(result.connection.checkedAt).toMatch(/UTC$/);

    const row = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(row.connectionStatus).toBe(state);
    expect(row.connectionCheckedAt).toBeInstanceOf(Date);
    expect((await load(SHOP)).connection.state).toBe(state);

    // The one request Refersion received: POST /v2/affiliate/list {"limit":"1"} with the saved keys.
    expect(harness.refersion.received).toHaveLength(1);
    const call = harness.refersion.received[0];
    expect(call).toMatchObject({ method: "POST", path: "/v2/affiliate/list", endpoint: "affiliate_list", publicKey: KEYS.publicKey });
    expect(call.body).toEqual({ limit: "1" });
    expect(JSON.stringify(result)).not.toContain(KEYS.secretKey);
  });

  it("GIVEN keys Refersion accepted WHEN a later test finds Refersion unreachable THEN the test says so and the keys stay valid", async () => {
    await save(SHOP);
    expect((await load(SHOP)).connection.state).toBe("valid");
    harness.refersion.setBehavior({ mode: "fail" }, "api");
    expect(await testConnection(SHOP)).toMatchObject({ connection: { state: "unreachable" } });
    // No answer disproves nothing: the setup guide's connection step does not go back.
    expect((await load(SHOP)).connection.state).toBe("valid");
    harness.refersion.setBehavior({ mode: "reject" }, "api");
    expect(await testConnection(SHOP)).toMatchObject({ connection: { state: "rejected" } });
    expect((await load(SHOP)).connection.state).toBe("rejected");
  });

  it("GIVEN keys Refersion does not know THEN they are rejected", async () => {
    await save(SHOP, { secretKey: "sec_wrong_secret_0000" });
    expect(await testConnection(SHOP)).toMatchObject({ connection: { state: "rejected" } });
  });

  it("forgets the outcome when the keys change, and tests the new keys as they are saved", async () => {
    await save(SHOP);
    await testConnection(SHOP);
    expect((await load(SHOP)).connection.state).toBe("valid");
    // Refersion does not answer the check that saving makes: the old "valid" must not stay.
    harness.refersion.setBehavior({ mode: "fail" }, "api");
    const saved = await save(SHOP, { secretKey: "sec_another_key_1111" });
    expect(saved.data).toMatchObject({ ok: true, connection: { state: "unreachable" } });
    expect((await load(SHOP)).connection.state).toBe("unreachable");
  });
});

describe("settings page: saving keys tests them", () => {
  it("GIVEN new keys WHEN saved THEN the save answers with Refersion's verdict on them, stored like a check", async () => {
    const result = await save(SHOP);
    expect(result.data).toMatchObject({ ok: true, connection: { state: "valid", tone: "success", title: "Keys valid" } });
    expect(harness.refersion.received.filter((call) => call.endpoint === "affiliate_list")).toHaveLength(1);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).connectionStatus).toBe("valid");
    expect(JSON.stringify(result.data)).not.toContain(KEYS.secretKey);
  });

  it("GIVEN keys Refersion rejects WHEN saved THEN the settings are saved and the answer says the keys were rejected", async () => {
    const result = await save(SHOP, { secretKey: "sec_wrong_secret_0000" });
    expect(result.data).toMatchObject({ ok: true, connection: { state: "rejected", tone: "critical" } });
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).secretKeyLast4).toBe("0000");
  });

  it("GIVEN tested keys WHEN only an option is saved THEN Refersion is not asked again and the outcome stays", async () => {
    await save(SHOP);
    const checks = harness.refersion.received.length;
    const result = await save(SHOP, { secretKey: "", forwardTestOrders: "true" });
    expect(result.data).toMatchObject({ ok: true, connection: null });
    expect(harness.refersion.received).toHaveLength(checks);
    expect((await load(SHOP)).connection.state).toBe("valid");
  });

  it("GIVEN the public key pasted as the secret THEN the secret field says so and nothing is saved", async () => {
    const result = await save(SHOP, { publicKey: "pub_0123456789abcdef", secretKey: "pub_0123456789abcdef" });
    expect(result.status).toBe(400);
    expect(result.data).toMatchObject({ ok: false, errors: { secretKey: expect.stringMatching(/public key again/) } });
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
    expect(harness.refersion.received).toHaveLength(0);
  });

  it("GIVEN a secret with a space inside THEN the secret field says to copy it again without spaces", async () => {
    const result = await save(SHOP, { secretKey: "sec_abc def_12345" });
    expect(result.data).toMatchObject({ ok: false, errors: { secretKey: expect.stringMatching(/space or line break/) } });
  });
});
