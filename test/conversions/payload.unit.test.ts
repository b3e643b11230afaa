import { parseConversionWebhook, isConversionTopic } from "~/conversions/payload";
import { hasValidSignature, signConversionBody } from "~/conversions/signature";
import { conversionWebhookBody } from "../../scripts/refersion-conversions";

const body = () =>
  conversionWebhookBody({
    conversionId: 42,
    orderId: "450789469",
    status: "DENIED",
    created: new Date("2026-12-01T10:00:00Z"),
    updated: new Date("2026-12-01T11:00:00Z"),
    total: "80.00",
    commission: "8.00",
    currency: "eur",
    test: true,
    deniedReason: "Self-referral",
  });

describe("parseConversionWebhook", () => {
  it("reads Refersion's body: ids and numbers as strings, its times as UTC, the test flag, the denial's reason", () => {
    const parsed = parseConversionWebhook(body());
    expect(parsed).toEqual({
      ok: true,
      report: {
        conversionId: "42",
        orderId: "450789469",
        status: "denied",
        deniedReason: "Self-referral",
        affiliateId: "8908369",
        affiliateCode: "ada1",
        affiliateName: "Ada Sandbox",
        commission: "8.00",
        total: "80.00",
        currency: "EUR",
        test: true,
        refersionCreatedAt: new Date("2026-12-01T10:00:00Z"),
        refersionUpdatedAt: new Date("2026-12-01T11:00:00Z"),
      },
    });
  });

  it("accepts numbers as numbers, lower-case statuses, ISO times and a missing affiliate", () => {
    const parsed = parseConversionWebhook({ id: "c-1", status: "approved", commission_total: 12.5, total: 125, updated: "2026-12-01T10:00:00Z", is_test_conversion: "0" });
    expect(parsed).toMatchObject({ ok: true, report: { status: "approved", commission: "12.5", total: "125", affiliateName: null, test: false } });
  });

  it("names each problem", () => {
    expect(parseConversionWebhook({ status: "LOST", total: "1,000" })).toEqual({
      ok: false,
      problems: expect.arrayContaining([expect.stringMatching(/^id: /), "status: must be PENDING, APPROVED or DENIED", "total: must be a decimal number"]),
    });
    expect(parseConversionWebhook(null)).toEqual({ ok: false, problems: ["the body must be a JSON object"] });
  });

  it("stores conversion topics only", () => {
    expect(["NEW_CONVERSION", "APPROVED_CONVERSION", "DENIED_CONVERSION"].every((topic) => isConversionTopic(topic))).toBe(true);
    expect(isConversionTopic(null)).toBe(true);
    expect(isConversionTopic("NEW_AFFILIATE")).toBe(false);
  });
});

describe("hasValidSignature", () => {
  const raw = Buffer.from(JSON.stringify(body()));
  const secret = "whsec_0123456789";
  it("holds for base64 HMAC-SHA256 of the raw body with the secret, and for nothing else", () => {
    const signature = signConversionBody(raw, secret);
    expect(hasValidSignature(raw, signature, secret)).toBe(true);
    expect(hasValidSignature(raw, ` ${signature} `, secret)).toBe(true);
    expect(hasValidSignature(raw, signature, `${secret}x`)).toBe(false);
    expect(hasValidSignature(Buffer.concat([raw, Buffer.from(" ")]), signature, secret)).toBe(false);
    expect(hasValidSignature(raw, null, secret)).toBe(false);
    expect(hasValidSignature(raw, "", secret)).toBe(false);
    expect(hasValidSignature(raw, signature.slice(0, -2), secret)).toBe(false);
    expect(hasValidSignature(raw, Buffer.from(signature, "base64").toString("hex"), secret)).toBe(false);
  });
});
