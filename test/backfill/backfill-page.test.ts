import prisma from "~/db.server";
import { action, loader } from "~/routes/app.backfill";
import { adminRequest, storeOfflineSession, unwrap } from "../support/admin-session";
import { insertDelivery } from "../support/outbox";

const SHOP = "backfill-page.myshopify.com";
const OTHER_SHOP = "backfill-other.myshopify.com";

async function load(shop = SHOP) {
  return unwrap(await loader({ request: adminRequest(shop, "/app/backfill"), params: {}, context: {} })).data;
}

async function start(form: Record<string, string>, shop = SHOP) {
  return unwrap(await action({ request: adminRequest(shop, "/app/backfill", form), params: {}, context: {} }));
}

const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  await storeOfflineSession(SHOP);
  await storeOfflineSession(OTHER_SHOP);
});
beforeEach(() => prisma.backfillJob.deleteMany());

describe("the resend past orders page", () => {
  it("GIVEN no job yet THEN it offers the last 7 days and says how far back Shopify lets the app read", async () => {
    const view = await load();
    expect(view).toMatchObject({ job: null, active: false, today: today() });
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

  it("GIVEN a range THEN it starts one job (whole UTC days, the last one included), shows it after a reload, and a second start returns the same job", async () => {
    const first = await start({ since: "2026-11-01", until: "2026-11-10" });
    expect(first.data).toMatchObject({ ok: true, created: true, job: { status: "queued", since: "2026-11-01", until: "2026-11-10" } });
    const row = await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } });
    expect(row.since.toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(row.until!.toISOString()).toBe("2026-11-10T23:59:59.999Z");

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
