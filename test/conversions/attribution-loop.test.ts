import http from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import type { ConversionPlan } from "../../scripts/refersion-conversions";
import { startAdminHarness } from "../support/admin-harness";

/**
 * The whole loop on 127.0.0.1: orders are forwarded by the delivery worker to the Refersion
 * stand-in, which sends signed conversion webhooks by plan to the receiver route over HTTP; the
 * figures the admin shows are computed from what arrived.
 */
const harness = await startAdminHarness();
const { default: prisma } = await import("~/db.server");
const { createConfiguredWorker } = await import("~/background/background-work.server");
const { action: receive } = await import("~/routes/refersion.conversions.$token");
const { saveConversionSettings, receiverUrl } = await import("~/conversions/receiver.server");
const { loadAttributionView, affiliateFilteredPage, affiliateCellsFor } = await import("~/admin/conversions-view.server");
const { configureShop, enqueueFixtureOrder, DOCS_ORDER } = await import("../support/outbox");
const { orderFixture } = await import("../support/fixtures");
const { acceptCancellationWebhook } = await import("~/reversals/intake.server");

const SHOP = "loop-shop.myshopify.com";
const SIGNING_SECRET = "whsec_loop_0123456789";
const HOUR = 3_600_000;

/** The receiver route behind a real HTTP server: the bytes the stand-in signed are the bytes it reads. */
async function startReceiver() {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const token = (req.url ?? "").split("/").pop();
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([name, value]) => (typeof value === "string" ? [[name, value] as [string, string]] : [])),
      body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
    });
    const response = await receive({ request, params: { token }, context: {} });
    res.writeHead(response.status, { "Content-Type": response.headers.get("content-type") ?? "text/plain" });
    res.end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const receiver = await startReceiver();
let deliveredAt: Date;

function worker() {
  return createConfiguredWorker({
    now: () => new Date(Date.now() + 1_000),
    random: () => 0.5,
    config: { webhookUrl: harness.refersion.webhookUrl, apiUrl: harness.refersion.apiUrl, timeoutMs: 5_000, retryBaseMs: 1_000, leaseMs: 60_000, concurrency: 2, pollMs: 50 },
  });
}

const PLANS: Record<string, ConversionPlan> = {
  "9101": { outcome: "approve" },
  "9102": { outcome: "credit", affiliate: 1, duplicates: 2 },
  "9103": { outcome: "deny", deniedReason: "Self-referral" },
  "9104": { outcome: "none" },
  "9105": { outcome: "credit", wrongSignature: true },
  "9106": { outcome: "approve", outOfOrder: true, delayMs: 50 },
};

beforeAll(async () => {
  await harness.install(SHOP);
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
  const saved = await saveConversionSettings(SHOP, { signingSecret: SIGNING_SECRET, graceHours: 24 }, new Date(Date.now() - HOUR));
  harness.refersion.setConversionWebhooks({ url: receiverUrl(receiver.url, saved.token), signingSecret: SIGNING_SECRET, plans: PLANS });
  for (const orderId of Object.keys(PLANS)) await enqueueFixtureOrder(SHOP, Number(orderId));
  await worker().drain();
  await harness.refersion.conversions.settled();
  deliveredAt = (await prisma.delivery.findFirstOrThrow({ where: { shop: SHOP, orderId: "9106" } })).deliveredAt!;
});
afterAll(async () => {
  await receiver.close();
  await harness.close();
});

describe("conversions the stand-in sent", () => {
  it("were answered: 200 for signed ones (repeats too), 401 for the wrong signature", () => {
    const sent = harness.refersion.conversions.sent;
    expect(sent.filter((entry) => entry.signature === "wrong").map((entry) => entry.answer)).toEqual([401]);
    expect(sent.filter((entry) => entry.signature === "valid").every((entry) => entry.answer === 200)).toBe(true);
    expect(sent.filter((entry) => entry.orderId === "9102")).toHaveLength(3);
  });

  it("give the home page's figures: forwarded, credited, the rate and commission by status", async () => {
    const view = await loadAttributionView(SHOP, { now: new Date(deliveredAt.getTime() + HOUR) });
    expect(view.connected).toBe(true);
    const week = view.periods.find((period) => period.days === 7)!;
    expect(week).toMatchObject({ forwarded: 6, credited: 3, denied: 1, waiting: 2, noClick: 0, rate: "50%" });
    // The stand-in's commission is 10% of the order's item total, the same for each fixture order.
    const commissions = await prisma.conversion.findMany({ where: { shop: SHOP }, orderBy: { orderId: "asc" } });
    expect(commissions.map((row) => [row.orderId, row.status])).toEqual([
      ["9101", "approved"],
      ["9102", "pending"],
      ["9103", "denied"],
      ["9106", "approved"],
    ]);
    const each = Number(commissions[0].commission);
    const money = (amount: number) => new Intl.NumberFormat("en-US", { style: "currency", currency: commissions[0].currency! }).format(amount);
    expect(week.commission).toEqual([
      { status: "approved", label: "Approved", amounts: [money(2 * each)] },
      { status: "pending", label: "Pending", amounts: [money(each)] },
      { status: "denied", label: "Denied", amounts: [money(each)] },
    ]);
  });

  it("after the grace period, orders without a conversion are 'no affiliate click'", async () => {
    const view = await loadAttributionView(SHOP, { now: new Date(deliveredAt.getTime() + 25 * HOUR) });
    expect(view.periods[0]).toMatchObject({ forwarded: 6, credited: 3, waiting: 0, noClick: 2, rate: "50%" });
  });

  it("filter the delivery log (credited, not credited, denied) and fill its Affiliate column", async () => {
    const orderIdsOf = async (filter: "credited" | "not_credited" | "denied", now = new Date(deliveredAt.getTime() + 25 * HOUR)) => {
      const page = await affiliateFilteredPage(SHOP, filter, 1, 25, now);
      const rows = await prisma.delivery.findMany({ where: { id: { in: page.ids } } });
      return { total: page.total, orders: rows.map((row) => row.orderId).sort() };
    };
    expect(await orderIdsOf("credited")).toEqual({ total: 3, orders: ["9101", "9102", "9106"] });
    expect(await orderIdsOf("denied")).toEqual({ total: 1, orders: ["9103"] });
    expect(await orderIdsOf("not_credited")).toEqual({ total: 2, orders: ["9104", "9105"] });
    // Within the grace period they are still waiting for Refersion, as their cells say: not listed.
    expect(await orderIdsOf("not_credited", new Date(deliveredAt.getTime() + HOUR))).toEqual({ total: 0, orders: [] });

    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { id: true, orderId: true, kind: true } });
    const cells = await affiliateCellsFor(SHOP, rows, new Date(deliveredAt.getTime() + HOUR));
    const byOrder = Object.fromEntries(rows.map((row) => [row.orderId, cells[row.id]]));
    expect(byOrder["9101"]).toMatchObject({ label: "Approved", affiliate: "Ada Sandbox (ada1)" });
    expect(byOrder["9102"]).toMatchObject({ label: "Pending", affiliate: "Bo Sandbox (bo22)" });
    expect(byOrder["9103"]).toMatchObject({ label: "Denied", affiliate: "Ada Sandbox (ada1)" });
    expect(byOrder["9104"]).toMatchObject({ label: "Waiting for Refersion", affiliate: null });
  });

  it("a cancellation the app sends to Refersion shows up as Refersion's later status, denied", async () => {
    const order = { ...orderFixture(DOCS_ORDER), id: 9101, cancelled_at: new Date().toISOString(), cancel_reason: "customer" };
    expect((await acceptCancellationWebhook({ shop: SHOP, orderId: "9101", payload: order, webhookId: "cancel-9101" })).outcome).toBe("queued");
    await worker().drain();
    expect(harness.refersion.received.filter((request) => request.endpoint === "conversion_cancel" && request.accepted)).toHaveLength(1);
    await harness.refersion.conversions.settled();
    const row = await prisma.conversion.findFirstOrThrow({ where: { shop: SHOP, orderId: "9101" } });
    expect(row).toMatchObject({ status: "denied", deniedReason: "Order cancelled" });
    const view = await loadAttributionView(SHOP, { now: new Date(deliveredAt.getTime() + HOUR) });
    expect(view.periods[0]).toMatchObject({ credited: 2, denied: 2 });
  });
});
