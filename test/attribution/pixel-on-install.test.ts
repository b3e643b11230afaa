/**
 * Installing the app turns the checkout pixel on: the merchant's first admin request carries a
 * session token and the app has no session yet, so Shopify's library exchanges the token (at the
 * Admin API stand-in's token endpoint) and runs the app's auth hook, which creates the pixel with
 * the new offline token.
 */
import { startAdminHarness } from "../support/admin-harness";
import { TEST_ENV } from "../support/test-env";

const harness = await startAdminHarness();
const appLayout = await import("~/routes/app");
const { adminRequest } = await import("../support/admin-session");
const { default: prisma } = await import("~/db.server");

const SHOP = "pixel-install.myshopify.com";

afterAll(() => harness.close());

it("the first admin request of a new install creates the pixel, and recording it does not fail the request", async () => {
  harness.shopify.setShop(SHOP, { webPixel: null });
  expect(await prisma.session.count({ where: { shop: SHOP } })).toBe(0);

  await appLayout.loader({ request: adminRequest(SHOP, "/app"), params: {}, context: {} });

  expect(await prisma.session.count({ where: { shop: SHOP } })).toBe(1);
  expect(JSON.parse(harness.shopify.webPixelOf(SHOP)!.settings)).toEqual({ reportUrl: `${TEST_ENV.SHOPIFY_APP_URL}/pixel/checkout-completed` });
  expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).toMatchObject({ pixelStatus: "connected", uninstalledAt: null });
  expect(harness.shopify.unexpected()).toEqual([]);
});

it("an install whose pixel Shopify refuses still succeeds, with the pixel recorded as not connected", async () => {
  const shop = "pixel-install-refused.myshopify.com";
  harness.shopify.setShop(shop, { webPixel: null, pixelScopes: false });
  await appLayout.loader({ request: adminRequest(shop, "/app"), params: {}, context: {} });
  expect(await prisma.session.count({ where: { shop } })).toBe(1);
  expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop } })).toMatchObject({ pixelStatus: "not_connected", pixelProblem: "access_denied" });
});
