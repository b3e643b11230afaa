import { mapOrderToConversion } from "~/refersion/mapping";
import { parseOrderJson } from "~/refersion/shopify-order";
import { startRefersionSandbox, DEFAULT_SANDBOX_KEYS, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { orderFixtureNames, orderFixtureText } from "../support/fixtures";
import { freshDatabaseUrl, startProductionApp, type ProductionApp } from "../support/production-app";
import { webhookHeaders } from "../support/shopify-webhooks";
import { shopCli } from "../support/cli";
import { TEST_ENV } from "../support/test-env";

const SHOP = "e2e-store.myshopify.com";

let sandbox: RefersionSandbox;
let app: ProductionApp;
let databaseUrl: string;

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  databaseUrl = freshDatabaseUrl();
  app = await startProductionApp({
    DATABASE_URL: databaseUrl,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_POLL_MS: "100",
    DELIVERY_RETRY_BASE_MS: "200",
  });
  await shopCli(
    ["configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"],
    databaseUrl,
    { REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey },
  );
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

function post(body: string, webhookId: string, secret: string = TEST_ENV.SHOPIFY_API_SECRET) {
  return fetch(`${app.url}/webhooks/orders/create`, {
    method: "POST",
    headers: webhookHeaders({ topic: "orders/create", shop: SHOP, body, secret: TEST_ENV.SHOPIFY_API_SECRET, forgeWith: secret, webhookId }),
    body,
  });
}

describe("the production build, end to end", () => {
  it("forwards every signed order exactly once, with the mapped JSON and the shop's keys", async () => {
    const fixtures = orderFixtureNames();
    // Each order twice: Shopify's retry (same webhook id) and a re-send (new id), concurrently.
    const statuses = await Promise.all(
      fixtures.flatMap((name, i) => [post(orderFixtureText(name), `wh-${i}`), post(orderFixtureText(name), `wh-${i}`), post(orderFixtureText(name), `wh-${i}-again`)]).map(
        async (pending) => (await pending).status,
      ),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect((await post(orderFixtureText(fixtures[0]), "forged", "wrong-secret")).status).toBe(401);

    // What should arrive: every fixture that maps and is not a zero-value order.
    const expected = new Map<string, unknown>();
    for (const name of fixtures) {
      const result = mapOrderToConversion(parseOrderJson(orderFixtureText(name)), {
        shop: SHOP,
        currency: "shop",
        includeCustomer: true,
        autoCreditAffiliate: false,
        cartIdSecret: TEST_ENV.SHOPIFY_API_SECRET,
      });
      if (result.ok && !result.summary.zeroValue) expected.set(result.conversion.order_id, result.conversion);
    }
    expect(expected.size).toBeGreaterThanOrEqual(fixtures.length - 2);

    await sandbox.waitFor((received) => received.filter((r) => r.accepted).length >= expected.size, 30_000);
    // Give any duplicate a chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const accepted = sandbox.orders();
    expect(accepted).toHaveLength(expected.size);
    expect(sandbox.received.filter((r) => !r.accepted)).toEqual([]);
    for (const request of accepted) {
      expect(request.publicKey).toBe(DEFAULT_SANDBOX_KEYS.publicKey);
      const body = request.body as { order_id: string };
      expect(body).toEqual(expected.get(body.order_id));
    }

    const { stdout } = await shopCli(["deliveries", SHOP, "--json"], databaseUrl);
    const rows = JSON.parse(stdout) as { orderId: string; status: string; attempts: number }[];
    expect(rows).toHaveLength(fixtures.length);
    for (const row of rows) {
      if (expected.has(row.orderId)) expect(row).toMatchObject({ status: "delivered", attempts: 1 });
      else expect(row.status).toBe("skipped");
    }
    expect(app.output().join("\n")).not.toContain(DEFAULT_SANDBOX_KEYS.secretKey);
  }, 120_000);
});
