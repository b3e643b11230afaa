/**
 * Turning the checkout pixel on and off for a shop through Shopify's Admin GraphQL API, with the
 * shop's offline token, against the Admin API stand-in on 127.0.0.1 (scripts/shopify-admin-standin.ts).
 */
import { startAdminHarness } from "../support/admin-harness";
import { TEST_ENV } from "../support/test-env";

const harness = await startAdminHarness();
const { syncCheckoutPixel, pixelStateOf, PIXEL_REPORT_PATH } = await import("~/attribution/web-pixel.server");
const { offlineAccess } = await import("~/shopify.server");
const { default: prisma } = await import("~/db.server");

const SHOP = "pixel-shop.myshopify.com";
const REPORT_URL = `${TEST_ENV.SHOPIFY_APP_URL}${PIXEL_REPORT_PATH}`;

const sync = (forwardingEnabled: boolean, shop = SHOP) => syncCheckoutPixel(shop, offlineAccess.graphqlFor(shop), forwardingEnabled);
const operations = (shop = SHOP) => harness.shopify.requests.filter((entry) => entry.shop === shop && entry.operation.startsWith("webPixel")).map((entry) => entry.operation);

beforeEach(async () => {
  await harness.install(SHOP, { webPixel: null, pixelScopes: true });
  harness.shopify.requests.length = 0;
  await prisma.shopSettings.deleteMany({});
});
afterAll(() => harness.close());

describe("the checkout pixel for a shop", () => {
  it("is created with the app's report URL, and recorded as connected", async () => {
    expect(await sync(true)).toEqual({ status: "connected", problem: null });
    const pixel = harness.shopify.webPixelOf(SHOP)!;
    expect(JSON.parse(pixel.settings)).toEqual({ reportUrl: REPORT_URL });
    expect(operations()).toEqual(["webPixelCreate"]);
    expect(await pixelStateOf(SHOP)).toMatchObject({ status: "connected", problem: null });
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toMatchObject({ webPixelId: pixel.id });
    expect(harness.shopify.unexpected()).toEqual([]);
  });

  it("when it exists already (TAKEN), the existing pixel is found and updated: one pixel, the current URL", async () => {
    harness.shopify.setShop(SHOP, { webPixel: { id: "gid://shopify/WebPixel/1", settings: JSON.stringify({ reportUrl: "https://old-host.example/pixel/checkout-completed" }) } });
    expect(await sync(true)).toEqual({ status: "connected", problem: null });
    expect(operations()).toEqual(["webPixelCreate", "webPixel", "webPixelUpdate"]);
    expect(harness.shopify.webPixelOf(SHOP)).toEqual({ id: "gid://shopify/WebPixel/1", settings: JSON.stringify({ reportUrl: REPORT_URL }) });
    // Again: the same outcome, nothing added.
    expect(await sync(true)).toEqual({ status: "connected", problem: null });
    expect(harness.shopify.webPixelOf(SHOP)!.id).toBe("gid://shopify/WebPixel/1");
  });

  it("is deleted when forwarding is switched off, and deleting none is no error", async () => {
    await sync(true);
    expect(await sync(false)).toEqual({ status: "removed", problem: null });
    expect(harness.shopify.webPixelOf(SHOP)).toBeNull();
    expect(await sync(false)).toEqual({ status: "removed", problem: null });
    expect(operations()).toEqual(["webPixelCreate", "webPixel", "webPixelDelete", "webPixel"]);
    expect(await pixelStateOf(SHOP)).toMatchObject({ status: "removed" });
  });

  it("without the pixel scopes granted: not connected, access_denied, and nothing thrown", async () => {
    harness.shopify.setShop(SHOP, { pixelScopes: false });
    expect(await sync(true)).toEqual({ status: "not_connected", problem: "access_denied" });
    expect(await pixelStateOf(SHOP)).toMatchObject({ status: "not_connected", problem: "access_denied" });
  });

  it("without an offline session: not connected, offline_access", async () => {
    const shop = "pixel-never-installed.myshopify.com";
    expect(await sync(true, shop)).toEqual({ status: "not_connected", problem: "offline_access" });
    expect(operations(shop)).toEqual([]);
  });
});
