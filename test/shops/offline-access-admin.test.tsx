/**
 * The shops' offline tokens as the admin meets them: opening the app converts a non-expiring
 * token (without reinstalling), and renews access that the backfill found refused, after which
 * the home page says that the resend stopped and how to start again. Shopify is the admin
 * stand-in on 127.0.0.1 with its token endpoint
 * (scripts/shopify-admin-standin.ts, scripts/shopify-token-endpoint.ts); requests
 * carry session tokens as App Bridge sends them.
 */
import { renderToStaticMarkup } from "react-dom/server";
import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { startAdminHarness } from "../support/admin-harness";
import { signedAdminRequest, storeOfflineSession, unwrap, type OfflineSessionOptions } from "../support/admin-session";
import type { TokenGrant } from "../../scripts/shopify-token-endpoint";
import { TEST_ENV } from "../support/test-env";

const harness = await startAdminHarness();
const appLayout = await import("~/routes/app");
const home = await import("~/routes/app._index");
const backfillPage = await import("~/routes/app.backfill");
const { default: prisma } = await import("~/db.server");
const { setLogSink } = await import("~/logger.server");
const { configuredKeys, openValue } = await import("~/database/sealed-values.server");
const { offlineAccess } = await import("~/shopify.server");
const { markShopInstalled } = await import("~/shops/uninstall.server");
const { BackfillStoppedBanner } = await import("~/components/BackfillStoppedBanner");
const { createConfiguredBackfillRunner } = await import("~/background/background-work.server");
const { startBackfill, latestBackfillJob, progressOf } = await import("~/backfill/backfill.server");

const SHOP = "offline-admin.myshopify.com";
const RANGE = { since: new Date("2026-11-01T00:00:00.000Z"), until: null };

const logLines: string[] = [];
setLogSink((line) => logLines.push(line));
const logged = (msg: string) => logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === msg);

const tokenRequests = (grant: TokenGrant) => harness.shopify.tokens.requests.filter((request) => request.shop === SHOP && request.grant === grant);
const themeReads = () => harness.shopify.requests.filter((request) => request.shop === SHOP && request.operation === "themes").map((request) => request.status);
// The session as stored, with its tokens opened (they are sealed at rest: SealedSessionStorage).
const storedSession = async () => {
  const row = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${SHOP}` } });
  const keys = configuredKeys().all;
  return { ...row, accessToken: openValue(row.accessToken, keys), refreshToken: row.refreshToken === null ? null : openValue(row.refreshToken, keys) };
};
const problemOf = async () => (await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).offlineAccessProblem;
const anHourAgo = () => new Date(Date.now() - 3_600_000);

/** The merchant opens the app: Remix runs the layout's loader and the page's at the same time. */
async function openHome() {
  const [layout, page] = await Promise.all([
    appLayout.loader({ request: await signedAdminRequest(SHOP, "/app"), params: {}, context: {} }),
    home.loader({ request: await signedAdminRequest(SHOP, "/app"), params: {}, context: {} }),
  ]);
  expect(layout).toEqual({ apiKey: TEST_ENV.SHOPIFY_API_KEY });
  return unwrap(page).data;
}

/** An installed shop (its settings row and offline session), with the same token at Shopify. */
async function install(session: OfflineSessionOptions) {
  await markShopInstalled(SHOP);
  const credentials = await storeOfflineSession(SHOP, session);
  harness.shopify.setShop(SHOP, { accessToken: credentials.accessToken, embed: "enabled", themeName: "Dawn" });
  harness.shopify.tokens.set(SHOP, credentials);
  return credentials;
}

afterAll(() => harness.close());
beforeEach(async () => {
  harness.shopify.requests.length = 0;
  harness.shopify.tokens.requests.length = 0;
  harness.shopify.tokens.setDelay(0);
  await prisma.backfillJob.deleteMany();
  await prisma.session.deleteMany();
  await prisma.shopSettings.deleteMany();
  logLines.length = 0;
});
afterEach(() => {
  expect(harness.shopify.unexpected()).toEqual([]);
  expect(harness.shopify.requests.filter((request) => request.status === 401)).toEqual([]);
});

describe("opening the app", () => {
  it("GIVEN a shop still on a non-expiring token THEN its loaders convert it once, read Shopify with the new token, and later visits ask for nothing", async () => {
    const before = await install({ expires: null });
    // Shopify answers slowly: both loaders hold the old token while the conversion is under way.
    harness.shopify.tokens.setDelay(150);

    const view = await openHome();

    expect(view.embed).toMatchObject({ state: "enabled", themeName: "Dawn" });
    expect(view.stoppedBackfill).toBeNull();
    expect(tokenRequests("conversion").map((request) => [request.presented, request.status])).toEqual([[before.accessToken, 200]]);
    expect(tokenRequests("session_token_exchange")).toEqual([]);
    const held = harness.shopify.tokens.current(SHOP)!;
    const stored = await storedSession();
    expect(stored).toMatchObject({ accessToken: held.accessToken, refreshToken: held.refreshToken });
    expect(stored.expires!.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(themeReads()).toEqual([200]);

    harness.shopify.tokens.setDelay(0);
    await openHome();
    expect(harness.shopify.tokens.requests).toHaveLength(1);
    expect(themeReads()).toEqual([200, 200]);
  });

  it("GIVEN Shopify refuses to convert the stored token (no longer valid) THEN the app exchanges the merchant's session token for a new expiring one instead", async () => {
    await install({ expires: null });
    // Shopify no longer knows the stored token.
    harness.shopify.tokens.set(SHOP, { accessToken: "shpat_issued_elsewhere" });

    const view = await openHome();

    expect(view.embed.state).toBe("enabled");
    expect(tokenRequests("conversion").map((request) => [request.status, request.error])).toEqual([[400, "invalid_subject_token"]]);
    // One exchange per loader at most (the library exchanges for each request without a token).
    expect(tokenRequests("session_token_exchange").length).toBeGreaterThanOrEqual(1);
    expect(tokenRequests("session_token_exchange").every((request) => request.status === 200)).toBe(true);
    const held = harness.shopify.tokens.current(SHOP)!;
    expect(held.accessTokenExpiresAt).not.toBeNull();
    expect(await storedSession()).toMatchObject({ accessToken: held.accessToken, refreshToken: held.refreshToken });
    // Recorded while it stood, cleared by the new token.
    expect(logged("offline access needs the merchant to open the app")).toEqual([expect.objectContaining({ problem: "migration_refused" })]);
    expect(await problemOf()).toBeNull();
  });
});

describe("access refused while the merchant is away", () => {
  it("GIVEN the refresh is refused during a backfill THEN the job stops with the reason, opening the app renews access, and the home page says the resend stopped until a new one is started", async () => {
    const before = await install({ expires: anHourAgo() });
    harness.shopify.tokens.revoke(SHOP);
    const { job } = await startBackfill(SHOP, RANGE);

    expect(await createConfiguredBackfillRunner({ pollMs: 20 }).runOnce()).toEqual({ jobId: job.id, outcome: "failed" });
    expect(progressOf((await latestBackfillJob(SHOP))!).error).toMatch(/^Shopify refused to renew the app's access to this shop .* then start again\.$/);
    expect(await problemOf()).toBe("refresh_refused");

    // The merchant opens the app: the library exchanges the session token for a new expiring
    // token and the hook clears the problem, before any loader reads anything.
    const opened = await openHome();
    expect(await problemOf()).toBeNull();
    const held = harness.shopify.tokens.current(SHOP)!;
    expect(held.accessToken).not.toBe(before.accessToken);
    expect(await storedSession()).toMatchObject({ accessToken: held.accessToken, refreshToken: held.refreshToken });
    expect(tokenRequests("session_token_exchange").every((request) => request.status === 200)).toBe(true);
    expect(opened.embed.state).toBe("enabled");

    // What is left to tell: the resend stopped, and where to start it again.
    expect(opened.stoppedBackfill).toEqual({
      reason: "Shopify refused to renew the app's access to this shop (the access may have been revoked).",
      since: "Nov 1, 2026",
      until: null,
      processed: 0,
      enqueued: 0,
      stoppedAt: expect.stringMatching(/ UTC$/),
    });
    const banner = renderToStaticMarkup(
      <AppProvider i18n={en}>
        <BackfillStoppedBanner stopped={opened.stoppedBackfill!} resendUrl="/app/backfill?shop=offline-admin.myshopify.com" />
      </AppProvider>,
    );
    expect(banner).toContain("Resending past orders stopped");
    expect(banner).toContain("Resending your orders from Nov 1, 2026 to now stopped on ");
    expect(banner).toContain("Opening the app has renewed its access. Start again to resend the rest");
    const afterOneOrder = renderToStaticMarkup(
      <AppProvider i18n={en}>
        <BackfillStoppedBanner stopped={{ ...opened.stoppedBackfill!, processed: 1 }} resendUrl="/app/backfill" />
      </AppProvider>,
    );
    expect(afterOneOrder).toContain("(1 order read, 0 queued for Refersion)");
    expect(banner).toMatch(/<a [^>]*href="\/app\/backfill\?shop=offline-admin\.myshopify\.com"[^>]*>.*Resend past orders/);

    // Offline work has its token again without asking Shopify.
    const asked = harness.shopify.tokens.requests.length;
    expect((await offlineAccess.sessionFor(SHOP)).accessToken).toBe(held.accessToken);
    expect(harness.shopify.tokens.requests).toHaveLength(asked);

    // Starting again on Resend past orders dismisses it.
    const started = unwrap(
      await backfillPage.action({ request: await signedAdminRequest(SHOP, "/app/backfill", { since: "2026-11-01", until: "" }), params: {}, context: {} }),
    ).data;
    expect(started).toMatchObject({ ok: true, created: true });
    expect((await openHome()).stoppedBackfill).toBeNull();
  });

  it("GIVEN the latest job failed for another reason THEN the home page shows no notice about access", async () => {
    await install({});
    await prisma.backfillJob.create({
      data: { shop: SHOP, since: RANGE.since, status: "failed", error: "Shopify reported: INTERNAL_SERVER_ERROR", finishedAt: new Date() },
    });
    expect((await openHome()).stoppedBackfill).toBeNull();
  });
});
