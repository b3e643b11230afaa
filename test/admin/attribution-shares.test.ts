import { signedAdminRequest, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";

/**
 * Home's "How orders are credited" counts orders by the shop's day they were placed, like the
 * rest of the home page: a past order resent today counts on its own day, not this week.
 */

const harness = await startAdminHarness();
const home = await import("~/routes/app._index");
const { default: prisma } = await import("~/db.server");
const { insertDelivery } = await import("../support/outbox");

const SHOP = "shares-shop.myshopify.com";
const DAY = 86_400_000;

beforeAll(async () => {
  await harness.install(SHOP, { ianaTimezone: "America/New_York" });
});
afterAll(() => harness.close());

async function sharesOnHome() {
  const view = unwrap(await home.loader({ request: await signedAdminRequest(SHOP, "/app"), params: {}, context: {} })).data;
  return Object.fromEntries(view.attributionSources.map((period) => [period.days, period.total]));
}

describe("how orders are credited, on the home page", () => {
  it("GIVEN orders placed this week, a past order resent today and an old row without a placing time THEN each counts on the day it was placed", async () => {
    const now = Date.now();
    // Placed an hour ago.
    await insertDelivery(SHOP, { status: "delivered", attributionSource: "cart_token", orderPlacedAt: new Date(now - 3_600_000) });
    // Placed 20 days ago, resent (recorded) today: the last 30 days, not the last 7.
    await insertDelivery(SHOP, { status: "delivered", attributionSource: "none", orderPlacedAt: new Date(now - 20 * DAY), createdAt: new Date(now) });
    // Placed 40 days ago, resent today: neither period.
    await insertDelivery(SHOP, { status: "delivered", attributionSource: "pixel", orderPlacedAt: new Date(now - 40 * DAY), createdAt: new Date(now) });
    // Recorded 3 days ago before the placing time was kept: counts on the day it arrived.
    await insertDelivery(SHOP, { status: "delivered", attributionSource: "discount_code", orderPlacedAt: null, createdAt: new Date(now - 3 * DAY) });

    expect(await sharesOnHome()).toEqual({ 7: 2, 30: 3 });
    await prisma.delivery.deleteMany({ where: { shop: SHOP } });
  });
});
