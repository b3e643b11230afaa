import { adminRequest, unwrap } from "../support/admin-session";
import { startAdminHarness } from "../support/admin-harness";

const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { action, loader } = await import("~/routes/app.backfill");
const { insertDelivery } = await import("../support/outbox");
const { forgetShopTimeZones } = await import("~/admin/shop-time-zone.server");

const SHOP = "backfill-page.myshopify.com";
const OTHER_SHOP = "backfill-other.myshopify.com";
/** Ahead of UTC by 5:30, so a day here and the UTC day of the same instants differ. */
const SHOP_ZONE = "Asia/Kolkata";

async function load(shop = SHOP) {
  return unwrap(await loader({ request: adminRequest(shop, "/app/backfill"), params: {}, context: {} })).data;
}

async function start(form: Record<string, string>, shop = SHOP) {
  return unwrap(await action({ request: adminRequest(shop, "/app/backfill", form), params: {}, context: {} }));
}

const dayIn = (zone: string, date: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(date);
const today = () => dayIn(SHOP_ZONE, new Date());

beforeAll(async () => {
  await harness.install(SHOP, { ianaTimezone: SHOP_ZONE });
  await harness.install(OTHER_SHOP, { ianaTimezone: "UTC" });
});
afterAll(() => harness.close());
beforeEach(async () => {
  forgetShopTimeZones();
  await prisma.backfillJob.deleteMany();
});
afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
});

describe("the resend past orders page", () => {
  it("GIVEN no job yet THEN it offers the shop's last 7 days and says how far back Shopify lets the app read", async () => {
    const view = await load();
    expect(view).toMatchObject({ job: null, active: false, today: today(), timeZone: SHOP_ZONE });
    expect(view.defaults.until).toBe(today());
    expect(Date.parse(view.defaults.until) - Date.parse(view.defaults.since)).toBe(7 * 86_400_000);
    expect(Date.parse(view.today) - Date.parse(view.oldestReadable)).toBe(60 * 86_400_000);
  });

  it.each([
    [{ since: "2026-13-01", until: "" }, { since: "From must be a date like 2026-11-01" }],
    [{ since: "2026-11-10", until: "2026-11-01" }, { until: "To must be on or after From" }],
    [{ since: "2999-01-01", until: "" }, { since: "From cannot be in the future" }],
  ])("GIVEN %j THEN it answers 400 with the field's error and starts nothing", async (form, errors) => {
    const { status, data } = await start(form);
    expect(status).toBe(400);
    expect(data).toEqual({ ok: false, errors });
    expect(await prisma.backfillJob.count()).toBe(0);
  });

  it("GIVEN a range THEN it starts one job (whole days of the shop's time zone, the last one included), shows it after a reload, and a second start returns the same job", async () => {
    const first = await start({ since: "2026-11-01", until: "2026-11-10" });
    expect(first.data).toMatchObject({ ok: true, created: true, job: { status: "queued", since: "2026-11-01", until: "2026-11-10" } });
    const row = await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } });
    // Nov 1 00:00 to Nov 10 24:00 in Kolkata (UTC+5:30).
    expect(row.since.toISOString()).toBe("2026-10-31T18:30:00.000Z");
    expect(row.until!.toISOString()).toBe("2026-11-10T18:29:59.999Z");
    expect((await load()).job).toMatchObject({ since: "2026-11-01", until: "2026-11-10" });

    const again = await start({ since: "2026-11-05", until: "" });
    expect(again.data).toMatchObject({ ok: true, created: false, job: { id: row.id } });

    // Progress saved by the runner is what the page shows on its next load (or poll).
    await prisma.backfillJob.update({ where: { id: row.id }, data: { status: "running", processed: 45, enqueued: 30, total: 120 } });
    expect((await load()).job).toMatchObject({ id: row.id, status: "running", processed: 45, enqueued: 30, total: 120, percent: 37 });
    expect((await load()).active).toBe(true);

    // Another shop sees nothing of it.
    expect((await load(OTHER_SHOP)).job).toBeNull();
  });

  it("counts the orders the latest job queued by whether they carry click data an affiliate can be credited by", async () => {
    await prisma.delivery.deleteMany({ where: { shop: SHOP } });
    const started = await start({ since: "2026-11-01", until: "2026-11-10" });
    expect(started.data).toMatchObject({ ok: true });
    const job = await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } });
    const afterStart = new Date(job.createdAt.getTime() + 1_000);
    for (const attributionSource of ["cart_token", "cart_attribute", "pixel", "none", "discount_code"] as const) {
      await insertDelivery(SHOP, { status: "pending", webhookId: null, attributionSource, createdAt: afterStart });
    }
    // Not the job's: an order from a webhook, one recorded before the job, one it did not queue, another shop's.
    await insertDelivery(SHOP, { status: "pending", webhookId: "w-1", attributionSource: "cart_token", createdAt: afterStart });
    await insertDelivery(SHOP, { status: "delivered", webhookId: null, attributionSource: "cart_token", createdAt: new Date(job.createdAt.getTime() - 60_000) });
    await insertDelivery(SHOP, { status: "skipped", webhookId: null, attributionSource: "cart_token", createdAt: afterStart });
    await insertDelivery(OTHER_SHOP, { status: "pending", webhookId: null, attributionSource: "cart_token", createdAt: afterStart });

    expect((await load()).clickData).toEqual({ withClickData: 3, withoutClickData: 2 });
    expect((await load(OTHER_SHOP)).clickData).toBeNull();
  });
});
