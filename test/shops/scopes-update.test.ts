/**
 * app/scopes_update through its route, with requests signed the way Shopify signs them: the
 * scope stored with the shop's sessions follows what the shop granted, an older update delivered
 * late changes nothing, and nothing of another shop changes.
 */
import prisma from "~/db.server";
import { setLogSink } from "~/logger.server";
import { action, loader } from "~/routes/webhooks.app.scopes_update";
import { applyScopesUpdate } from "~/shops/scopes-update.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

const SHOP = "scopes-shop.myshopify.com";
const OTHER_SHOP = "scopes-other.myshopify.com";
const INSTALLED_AT = new Date("2026-11-01T10:00:00Z");

const logLines: string[] = [];
setLogSink((line) => logLines.push(line));

interface SendOptions {
  forgeWith?: string;
  /** The body as sent, instead of JSON of `body`. */
  raw?: string;
  /** X-Shopify-Triggered-At; null leaves the header out. */
  triggeredAt?: string | null;
  method?: string;
}

/** Calls the route as Remix would, turning thrown Responses into returned ones. */
async function send(shop: string, body: unknown, options: SendOptions = {}): Promise<Response> {
  const text = options.raw ?? JSON.stringify(body);
  const headers = webhookHeaders({ topic: "app/scopes_update", shop, body: text, secret: TEST_ENV.SHOPIFY_API_SECRET, forgeWith: options.forgeWith });
  if (options.triggeredAt === null) delete headers["X-Shopify-Triggered-At"];
  else if (options.triggeredAt !== undefined) headers["X-Shopify-Triggered-At"] = options.triggeredAt;
  const method = options.method ?? "POST";
  const request = new Request(`${TEST_ENV.SHOPIFY_APP_URL}/webhooks/app/scopes_update`, { method, headers, body: method === "GET" ? undefined : text });
  try {
    return (await (method === "GET" ? loader() : action({ request, params: {}, context: {} }))) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

/** Shopify's body for this topic. */
function scopesUpdate(current: string[], updatedAt: string, previous: string[] = TEST_ENV.SCOPES.split(",")) {
  return { id: 954889, previous, current, updated_at: updatedAt };
}

async function storeSessions(shop: string) {
  await prisma.session.create({
    data: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: TEST_ENV.SCOPES, accessToken: `shpat_${shop.split(".")[0]}` },
  });
  // A staff member's online session, with the same scope.
  await prisma.session.create({
    data: { id: `${shop}_42`, shop, state: "", isOnline: true, scope: TEST_ENV.SCOPES, accessToken: "shpua_online", userId: 42n, expires: new Date(Date.now() + 86_400_000) },
  });
}

const scopesOf = async (shop: string) =>
  (await prisma.session.findMany({ where: { shop }, orderBy: { id: "asc" }, select: { id: true, scope: true } })).map((session) => [session.id, session.scope]);
const everythingOf = async (shop: string) => ({
  sessions: await prisma.session.findMany({ where: { shop }, orderBy: { id: "asc" } }),
  settings: await prisma.shopSettings.findUnique({ where: { shop } }),
});

beforeEach(async () => {
  logLines.length = 0;
  await prisma.session.deleteMany();
  await prisma.shopSettings.deleteMany();
  for (const shop of [SHOP, OTHER_SHOP]) {
    await storeSessions(shop);
    await markShopInstalled(shop, INSTALLED_AT);
  }
});

describe("app/scopes_update", () => {
  it("writes the scopes now granted to every session of the shop, and nothing of another shop", async () => {
    const otherShopBefore = await everythingOf(OTHER_SHOP);
    const response = await send(SHOP, scopesUpdate(["read_orders", "read_themes", "read_customers"], "2026-11-20T09:00:00.000Z"));
    expect(response.status).toBe(200);

    expect(await scopesOf(SHOP)).toEqual([
      [`offline_${SHOP}`, "read_orders,read_themes,read_customers"],
      [`${SHOP}_42`, "read_orders,read_themes,read_customers"],
    ]);
    const settings = await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(settings.scopesUpdatedAt).toEqual(new Date("2026-11-20T09:00:00.000Z"));
    // Only the scope changed: tokens and the rest of the sessions stay.
    expect((await prisma.session.findUniqueOrThrow({ where: { id: `offline_${SHOP}` } })).accessToken).toBe("shpat_scopes-shop");
    expect(await everythingOf(OTHER_SHOP)).toEqual(otherShopBefore);
  });

  it("applies a revocation the same way (fewer scopes, or none)", async () => {
    expect((await send(SHOP, scopesUpdate(["read_orders"], "2026-11-20T09:00:00Z"))).status).toBe(200);
    expect(await scopesOf(SHOP)).toEqual([
      [`offline_${SHOP}`, "read_orders"],
      [`${SHOP}_42`, "read_orders"],
    ]);
    expect((await send(SHOP, scopesUpdate([], "2026-11-20T10:00:00Z", ["read_orders"]))).status).toBe(200);
    expect(await scopesOf(SHOP)).toEqual([
      [`offline_${SHOP}`, ""],
      [`${SHOP}_42`, ""],
    ]);
  });

  it("is the same after the same update arrives twice", async () => {
    const update = scopesUpdate(["read_orders", "read_themes", "read_products"], "2026-11-20T09:00:00Z");
    expect((await send(SHOP, update)).status).toBe(200);
    const first = await everythingOf(SHOP);
    expect((await send(SHOP, update)).status).toBe(200);
    const second = await everythingOf(SHOP);
    expect(second.sessions).toEqual(first.sessions);
    expect({ ...second.settings, updatedAt: null }).toEqual({ ...first.settings, updatedAt: null });
    // An update granted at the very time of the stored one is the same update: writing it again is harmless.
    expect(await applyScopesUpdate(SHOP, { scopes: update.current, grantedAt: new Date(update.updated_at) })).toEqual({ outcome: "applied", sessions: 2 });
    expect((await everythingOf(SHOP)).sessions).toEqual(first.sessions);
  });

  it("does not apply an older update delivered after a newer one; a newer one still applies", async () => {
    expect((await send(SHOP, scopesUpdate(["read_orders", "read_themes", "read_products"], "2026-11-20T09:00:05Z"))).status).toBe(200);
    // Granted five seconds earlier, delivered late (a retry): the stored scope is newer.
    expect((await send(SHOP, scopesUpdate(["read_orders", "read_themes", "read_customers"], "2026-11-20T09:00:00Z"))).status).toBe(200);
    expect(await scopesOf(SHOP)).toEqual([
      [`offline_${SHOP}`, "read_orders,read_themes,read_products"],
      [`${SHOP}_42`, "read_orders,read_themes,read_products"],
    ]);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).scopesUpdatedAt).toEqual(new Date("2026-11-20T09:00:05Z"));
    // What the route did, as the domain function reports it.
    expect(await applyScopesUpdate(SHOP, { scopes: ["read_orders"], grantedAt: new Date("2026-11-20T09:00:04Z") })).toEqual({
      outcome: "superseded",
      by: "newer_scopes_update",
    });

    // Shopify's times carry up to nanoseconds.
    expect((await send(SHOP, scopesUpdate(["read_orders"], "2026-11-20T09:00:06.123456789Z"))).status).toBe(200);
    expect(await scopesOf(SHOP)).toEqual([
      [`offline_${SHOP}`, "read_orders"],
      [`${SHOP}_42`, "read_orders"],
    ]);
  });

  it("does not apply an update granted before the latest install (the token exchange stored a newer scope)", async () => {
    const reinstalledAt = new Date("2026-11-25T12:00:00Z");
    await markShopInstalled(SHOP, reinstalledAt);
    const before = await everythingOf(SHOP);
    expect((await send(SHOP, scopesUpdate(["read_orders"], "2026-11-25T11:59:59Z"))).status).toBe(200);
    expect(await everythingOf(SHOP)).toEqual(before);
    expect(await applyScopesUpdate(SHOP, { scopes: ["read_orders"], grantedAt: new Date("2026-11-25T11:59:59Z") })).toEqual({
      outcome: "superseded",
      by: "later_install",
    });
  });

  it("takes the time from X-Shopify-Triggered-At when the body has no updated_at", async () => {
    const body = { id: 954889, previous: ["read_orders"], current: ["read_orders", "read_themes", "read_products"] };
    expect((await send(SHOP, body, { triggeredAt: "2026-11-21T08:00:00.000000001Z" })).status).toBe(200);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).scopesUpdatedAt).toEqual(new Date("2026-11-21T08:00:00Z"));
    expect((await scopesOf(SHOP))[0][1]).toBe("read_orders,read_themes,read_products");
    // The body's own time wins over the header, which Shopify's signature does not cover.
    expect((await send(SHOP, scopesUpdate(["read_orders"], "2026-11-21T07:00:00Z"), { triggeredAt: "2026-11-22T00:00:00Z" })).status).toBe(200);
    expect((await scopesOf(SHOP))[0][1]).toBe("read_orders,read_themes,read_products");
  });

  it("updates the sessions of a shop whose install this app never recorded", async () => {
    await prisma.shopSettings.delete({ where: { shop: SHOP } });
    expect((await send(SHOP, scopesUpdate(["read_orders", "read_themes", "read_products"], "2026-11-20T09:00:00Z"))).status).toBe(200);
    expect((await scopesOf(SHOP))[0][1]).toBe("read_orders,read_themes,read_products");
    // No settings row is made for it.
    expect(await prisma.shopSettings.findUnique({ where: { shop: SHOP } })).toBeNull();
  });

  it("acknowledges a signed body it cannot read, refuses one without the topic's shape (422), changes nothing, and logs why", async () => {
    const before = [await everythingOf(SHOP), await everythingOf(OTHER_SHOP)];
    const cases: [string, RegExp][] = [
      ["{oops", /not valid JSON/],
      ["[]", /Not a scopes update/],
      ["null", /Not a scopes update/],
      [JSON.stringify({ id: 954889, previous: [], updated_at: "2026-11-20T09:00:00Z" }), /Not a scopes update: current/],
      [JSON.stringify({ id: 954889, current: "read_orders,read_products", updated_at: "2026-11-20T09:00:00Z" }), /Not a scopes update: current/],
      [JSON.stringify(scopesUpdate(["read_orders", "read_products,write_orders"], "2026-11-20T09:00:00Z")), /Not a scopes update: current\.1/],
      [JSON.stringify(scopesUpdate(["read_orders", 7 as unknown as string], "2026-11-20T09:00:00Z")), /Not a scopes update: current\.1/],
    ];
    for (const [raw, reason] of cases) {
      logLines.length = 0;
      const response = await send(SHOP, null, { raw });
      const readable = raw !== "{oops";
      expect({ raw, status: response.status }).toEqual({ raw, status: readable ? 422 : 200 });
      const warning = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.level === "warn");
      const msg = readable ? "webhook refused: the body does not fit the topic" : "scopes update not applied: its body cannot be used";
      expect(warning, raw).toMatchObject({ msg, shop: SHOP });
      expect(warning!.webhookId).toEqual(expect.any(String));
      expect(warning!.reason).toMatch(reason);
    }
    expect([await everythingOf(SHOP), await everythingOf(OTHER_SHOP)]).toEqual(before);
  });

  it("answers 401 to a forged signature, with the reason, and changes nothing", async () => {
    const before = [await everythingOf(SHOP), await everythingOf(OTHER_SHOP)];
    const response = await send(SHOP, scopesUpdate(["read_orders", "write_orders"], "2026-11-20T09:00:00Z"), { forgeWith: "not-the-app-secret" });
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/signature does not match/);
    expect([await everythingOf(SHOP), await everythingOf(OTHER_SHOP)]).toEqual(before);
  });

  it("answers 405 to GET", async () => {
    const response = await send(SHOP, null, { method: "GET" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });
});
