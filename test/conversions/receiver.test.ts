import prisma from "~/db.server";
import { action, loader } from "~/routes/refersion.conversions.$token";
import { saveConversionSettings, ensureConversionReceiver, rotateSigningSecrets } from "~/conversions/receiver.server";
import { keyIdOf, openSecret } from "~/database/secret-box.server";
import { signConversionBody } from "~/conversions/signature";
import { markShopInstalled, markShopUninstalled } from "~/shops/uninstall.server";
import { conversionWebhookBody, signedConversionWebhook, type ConversionBodyInput } from "../../scripts/refersion-conversions";

const SHOP = "conversions-a.myshopify.com";
const OTHER = "conversions-b.myshopify.com";
const SECRET_A = "whsec_shop_a_0123456789";
const SECRET_B = "whsec_shop_b_9876543210";
const T0 = new Date("2026-12-01T10:00:00Z");

function report(overrides: Partial<ConversionBodyInput> = {}): ConversionBodyInput {
  return {
    conversionId: 7001,
    orderId: "450789469",
    status: "PENDING",
    created: T0,
    updated: T0,
    total: "100.00",
    commission: "10.00",
    currency: "USD",
    ...overrides,
  };
}

async function tokenOf(shop: string) {
  return (await ensureConversionReceiver(shop)).token;
}

function post(token: string, body: string, headers: Record<string, string>) {
  return new Request(`http://app.test/refersion/conversions/${token}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
}

/** A conversion webhook signed with `secret`, posted to the shop's URL. */
async function send(token: string, input: ConversionBodyInput, secret: string) {
  const webhook = signedConversionWebhook(conversionWebhookBody(input), input.status, secret);
  return call(post(token, webhook.body, { "Refersion-Topic": webhook.topic, "Refersion-Signature": webhook.signature }), token);
}

async function call(request: Request, token: string) {
  const handler = request.method === "POST" ? action : loader;
  return (await handler({ request, params: { token }, context: {} })) as Response;
}

const stored = (shop = SHOP) => prisma.conversion.findMany({ where: { shop }, orderBy: { conversionId: "asc" } });

beforeEach(async () => {
  await prisma.conversion.deleteMany();
  await prisma.conversionReceiver.deleteMany();
  await prisma.shopSettings.deleteMany();
  await markShopInstalled(SHOP);
  await markShopInstalled(OTHER);
  await saveConversionSettings(SHOP, { signingSecret: SECRET_A, graceHours: 24 });
  await saveConversionSettings(OTHER, { signingSecret: SECRET_B, graceHours: 24 });
});

describe("the signature, checked before anything is read", () => {
  it("GIVEN a correctly signed conversion THEN it is stored with what the admin shows and nothing of the buyer", async () => {
    const response = await send(await tokenOf(SHOP), report(), SECRET_A);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, outcome: "recorded" });
    const [row] = await stored();
    expect(row).toMatchObject({
      conversionId: "7001",
      orderId: "450789469",
      status: "pending",
      affiliateId: "8908369",
      affiliateCode: "ada1",
      affiliateName: "Ada Sandbox",
      commission: "10.00",
      total: "100.00",
      currency: "USD",
      test: false,
      refersionCreatedAt: T0,
    });
    const kept = JSON.stringify(row);
    for (const buyer of ["buyer@example.invalid", "Buyer Example", "203.0.113.7", "ada@affiliates.invalid"]) expect(kept).not.toContain(buyer);
    expect((await prisma.conversionReceiver.findUnique({ where: { shop: SHOP } }))!.lastReceivedAt).not.toBeNull();
  });

  it("GIVEN a forged signature, another shop's secret, a changed body or no signature THEN 401 and nothing stored", async () => {
    const token = await tokenOf(SHOP);
    const good = signedConversionWebhook(conversionWebhookBody(report()), "PENDING", SECRET_A);
    const cases: [string, Request][] = [
      ["forged", post(token, good.body, { "Refersion-Signature": Buffer.alloc(32, 7).toString("base64") })],
      ["not base64", post(token, good.body, { "Refersion-Signature": "not-a-signature" })],
      ["wrong secret", post(token, good.body, { "Refersion-Signature": signedConversionWebhook(conversionWebhookBody(report()), "PENDING", SECRET_B).signature })],
      ["body changed", post(token, good.body.replace('"10.00"', '"99.00"'), { "Refersion-Signature": good.signature })],
      ["header missing", post(token, good.body, {})],
    ];
    for (const [name, request] of cases) {
      const response = await call(request, token);
      expect(response.status, name).toBe(401);
      expect(await response.text(), name).toMatch(/Refersion-Signature/);
    }
    expect(await stored()).toEqual([]);
    expect((await prisma.conversionReceiver.findUnique({ where: { shop: SHOP } }))!.lastReceivedAt).toBeNull();
  });

  it("GIVEN an unknown or malformed token THEN 404; GIVEN a shop that uninstalled the app THEN 404", async () => {
    for (const token of ["A".repeat(43), "short", "with/slashes%2Fand-dots.."]) {
      expect((await send(token, report(), SECRET_A)).status, token).toBe(404);
    }
    const token = await tokenOf(SHOP);
    await markShopUninstalled(SHOP);
    expect((await send(token, report(), SECRET_A)).status).toBe(404);
    expect(await stored()).toEqual([]);
  });

  it("GIVEN no signing secret saved THEN 401 saying to save it", async () => {
    await markShopInstalled("conversions-c.myshopify.com");
    const token = await tokenOf("conversions-c.myshopify.com");
    const response = await send(token, report(), SECRET_A);
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/signing secret/);
  });

  it("GIVEN a GET THEN 405", async () => {
    const token = await tokenOf(SHOP);
    expect((await call(new Request(`http://app.test/refersion/conversions/${token}`), token)).status).toBe(405);
  });
});

describe("after the signature", () => {
  async function sendRaw(body: string, topic = "NEW_CONVERSION") {
    const token = await tokenOf(SHOP);
    return call(post(token, body, { "Refersion-Topic": topic, "Refersion-Signature": signConversionBody(body, SECRET_A) }), token);
  }

  it.each([
    ["not JSON", "{oops", /not JSON/],
    ["an array", "[]", /JSON object/],
    ["no id", JSON.stringify({ status: "PENDING" }), /id: /],
    ["an unknown status", JSON.stringify({ id: 1, status: "LOST" }), /status: must be PENDING, APPROVED or DENIED/],
    ["a bad amount", JSON.stringify({ id: 1, status: "PENDING", commission_total: "ten" }), /commission_total: must be a decimal number/],
    ["a bad time", JSON.stringify({ id: 1, status: "PENDING", updated: "yesterday" }), /updated: must be a time/],
  ])("GIVEN %s, correctly signed THEN 400 with the reason and nothing stored", async (_name, body, reason) => {
    const response = await sendRaw(body);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(reason);
    expect(await stored()).toEqual([]);
  });

  it("GIVEN another topic sent to the same URL THEN acknowledged and ignored", async () => {
    const response = await sendRaw(JSON.stringify({ id: 5, first_name: "New affiliate" }), "NEW_AFFILIATE");
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/Ignored/);
    expect(await stored()).toEqual([]);
  });
});

describe("per-shop isolation", () => {
  it("GIVEN shop A's URL and secret THEN only shop A's conversions change; shop B's URL refuses A's secret", async () => {
    const [tokenA, tokenB] = [await tokenOf(SHOP), await tokenOf(OTHER)];
    expect(tokenA).not.toBe(tokenB);
    expect((await send(tokenB, report({ conversionId: 1 }), SECRET_B)).status).toBe(200);
    // A's secret on B's URL: refused; A's URL with the same conversion id makes A's own row.
    expect((await send(tokenB, report({ conversionId: 1, status: "DENIED", updated: new Date(T0.getTime() + 1000) }), SECRET_A)).status).toBe(401);
    expect((await send(tokenA, report({ conversionId: 1, status: "APPROVED", updated: new Date(T0.getTime() + 1000) }), SECRET_A)).status).toBe(200);
    expect((await stored(OTHER)).map((row) => row.status)).toEqual(["pending"]);
    expect((await stored(SHOP)).map((row) => row.status)).toEqual(["approved"]);
  });
});

describe("repeats and arrival order", () => {
  it("GIVEN the same webhook three times THEN one row, answered recorded then unchanged", async () => {
    const token = await tokenOf(SHOP);
    const outcomes = [];
    for (let i = 0; i < 3; i += 1) outcomes.push((await (await send(token, report(), SECRET_A)).json()).outcome);
    expect(outcomes).toEqual(["recorded", "unchanged", "unchanged"]);
    expect(await stored()).toHaveLength(1);
  });

  it("GIVEN approved then a late pending THEN approved stays; GIVEN pending then denied THEN denied with its reason", async () => {
    const token = await tokenOf(SHOP);
    const later = new Date(T0.getTime() + 3_600_000);
    await send(token, report({ conversionId: 1, status: "APPROVED", updated: later }), SECRET_A);
    expect((await (await send(token, report({ conversionId: 1 }), SECRET_A)).json()).outcome).toBe("unchanged");
    await send(token, report({ conversionId: 2 }), SECRET_A);
    expect((await (await send(token, report({ conversionId: 2, status: "DENIED", updated: later, deniedReason: "Self-referral" }), SECRET_A)).json()).outcome).toBe("updated");
    expect((await stored()).map((row) => [row.conversionId, row.status, row.deniedReason])).toEqual([
      ["1", "approved", null],
      ["2", "denied", "Self-referral"],
    ]);
  });

  it("GIVEN many reports of one conversion at once THEN the latest stands", async () => {
    const token = await tokenOf(SHOP);
    const reports = [0, 1, 2, 3, 4, 5].map((minute) =>
      report({ status: minute === 5 ? "APPROVED" : "PENDING", updated: new Date(T0.getTime() + minute * 60_000), commission: `${10 + minute}.00` }),
    );
    const answers = await Promise.all(reports.reverse().map((input) => send(token, input, SECRET_A)));
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "approved", commission: "15.00" });
  });

  it("GIVEN a conversion for an order the app never recorded THEN it is stored all the same", async () => {
    expect((await send(await tokenOf(SHOP), report({ orderId: "999000111" }), SECRET_A)).status).toBe(200);
    expect((await stored()).map((row) => row.orderId)).toEqual(["999000111"]);
  });
});

describe("the signing secret at rest", () => {
  it("is sealed, never stored in plain text, and is sealed again under a new APP_ENCRYPTION_KEY by the rotation", async () => {
    const row = (await prisma.conversionReceiver.findUnique({ where: { shop: SHOP } }))!;
    expect(JSON.stringify(row)).not.toContain(SECRET_A);
    expect(row.secretLast4).toBe(SECRET_A.slice(-4));
    const { encryptionEnv } = await import("~/env.server");
    const current = encryptionEnv().APP_ENCRYPTION_KEY;
    const next = "ab".repeat(32);
    expect(await rotateSigningSecrets({ currentKey: next, previousKeys: [current] })).toEqual({ reEncrypted: 2, failed: [] });
    const rotated = (await prisma.conversionReceiver.findUnique({ where: { shop: SHOP } }))!;
    expect(rotated.secretKeyId).toBe(keyIdOf(next));
    expect(openSecret({ ciphertext: rotated.secretCiphertext!, keyId: rotated.secretKeyId! }, [next])).toBe(SECRET_A);
    expect(await rotateSigningSecrets({ currentKey: next, previousKeys: [current] })).toEqual({ reEncrypted: 0, failed: [] });
  });
});
