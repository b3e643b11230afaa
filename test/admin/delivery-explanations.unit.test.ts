import type { DeliveryReason } from "@prisma/client";
import { explainDelivery, REFERSION_ANSWERS, refersionAnswerOf, retryUntil, type ExplainInput } from "~/admin/delivery-reasons";
import { DELIVERY_STATUSES } from "~/outbox/delivery-status";
import { RETRY_WINDOW_MS } from "~/outbox/retry-policy";

const FIRST_TRY = new Date("2026-12-01T10:00:00Z");
const NEXT_TRY = new Date("2026-12-01T10:05:00Z");

function input(overrides: Partial<ExplainInput>): ExplainInput {
  return {
    status: "failed",
    kind: "order",
    reasonCode: null,
    reasonDetail: null,
    lastStatusCode: null,
    firstAttemptAt: null,
    nextAttemptAt: null,
    timeZone: "UTC",
    ...overrides,
  };
}

/** The library's and Refersion's own words, which the plain sentences must never carry. */
const RAW = /Refersion answered|HTTP \d|\b[45]\d\d\b|ECONNREFUSED|fetch failed|within \d+ ms|undefined|null/;

describe("Refersion's answers in the merchant's words", () => {
  it.each([
    [400, "bad_request", false],
    [401, "unauthorized", false],
    [403, "forbidden", false],
    [404, "not_found", false],
    [422, "unprocessable", false],
    [429, "rate_limited", true],
    [500, "server_error", true],
    [503, "server_error", true],
    [null, "no_answer", true],
  ] as const)("GIVEN Refersion answered %s THEN the reason is plain, says whether the app retries and what to do", (statusCode, answer, retryable) => {
    expect(refersionAnswerOf(statusCode)).toBe(answer);
    const detail = statusCode === null ? "No answer from Refersion within 10000 ms" : `Refersion answered ${statusCode}`;
    const explanation = explainDelivery(
      retryable
        ? input({ status: "retrying", reasonCode: "refersion_unavailable", reasonDetail: detail, lastStatusCode: statusCode, firstAttemptAt: FIRST_TRY, nextAttemptAt: NEXT_TRY })
        : input({ status: "failed", reasonCode: "refersion_rejected", reasonDetail: detail, lastStatusCode: statusCode, firstAttemptAt: FIRST_TRY }),
    );
    expect(explanation.reason).toBe(REFERSION_ANSWERS[answer].reason);
    expect(explanation.nextStep).toBe(REFERSION_ANSWERS[answer].nextStep);
    for (const text of [explanation.reason, explanation.retry, explanation.nextStep]) expect(text).not.toMatch(RAW);
    if (retryable) {
      expect(explanation.retry).toBe("The app tries again at Dec 1, 2026, 10:05 AM UTC, and keeps trying until Dec 4, 2026, 10:00 AM UTC.");
    } else {
      expect(explanation.retry).toMatch(/does not send it again by itself/);
      // Only a refusal of the order's own details is refused again as it is; keys and account refusals go through once fixed.
      if (answer === "bad_request" || answer === "unprocessable") expect(explanation.retry).toMatch(/would be refused again/);
      else expect(explanation.retry).toMatch(/before that is fixed, it would be refused the same way/);
    }
    // The raw words are kept, apart.
    expect(explanation.technical).toContain(detail);
  });

  it("GIVEN 72 hours of failures THEN it says the app stopped, when, and to retry", () => {
    const explanation = explainDelivery(
      input({ status: "failed", reasonCode: "retries_exhausted", reasonDetail: "Refersion answered 503", lastStatusCode: 503, firstAttemptAt: FIRST_TRY }),
    );
    expect(explanation.reason).toBe("Refersion could not take it for 72 hours. Refersion had a problem on its side.");
    expect(explanation.retry).toBe("The app stopped trying on Dec 4, 2026, 10:00 AM UTC.");
    expect(explanation.nextStep).toMatch(/^Retry it now/);
  });

  it("GIVEN an unreadable secret THEN it asks for the secret again and says the order then goes by itself", () => {
    const explanation = explainDelivery(input({ status: "waiting_for_keys", reasonCode: "secret_unreadable" }));
    expect(explanation.reason).toMatch(/can no longer read your saved Refersion secret key/);
    expect(explanation.nextStep).toMatch(/secret key again in Settings/);
    expect(explanation.retry).toMatch(/by itself once the secret key is saved/);
    expect(`${explanation.reason} ${explanation.nextStep}`).not.toMatch(/APP_ENCRYPTION_KEY/);
  });

  it("GIVEN the shop's time zone THEN the times are in it", () => {
    const explanation = explainDelivery(
      input({ status: "retrying", reasonCode: "refersion_unavailable", lastStatusCode: 502, firstAttemptAt: FIRST_TRY, nextAttemptAt: NEXT_TRY, timeZone: "America/New_York" }),
    );
    expect(explanation.retry).toBe("The app tries again at Dec 1, 2026, 5:05 AM EST, and keeps trying until Dec 4, 2026, 5:00 AM EST.");
  });

  it("retries until the window of the retry policy after the first try", () => {
    expect(retryUntil(FIRST_TRY).getTime() - FIRST_TRY.getTime()).toBe(RETRY_WINDOW_MS);
  });

  it.each<DeliveryReason>(["unmappable", "unreadable_webhook", "never_mapped", "forwarding_off_before_delivery"])(
    "GIVEN a failure or skip for %s THEN the reason is a sentence without the stored detail",
    (reasonCode) => {
      const detail = "line_items[0].price should be a number, not text";
      for (const status of ["failed", "skipped"] as const) {
        const explanation = explainDelivery(input({ status, reasonCode, reasonDetail: detail }));
        expect(explanation.reason).toMatch(/\S/);
        expect(explanation.reason).not.toContain(detail);
        expect(explanation.technical).toContain(detail);
      }
    },
  );

  it("explains every status", () => {
    for (const status of DELIVERY_STATUSES) {
      const explanation = explainDelivery(input({ status, firstAttemptAt: FIRST_TRY, nextAttemptAt: NEXT_TRY, lastStatusCode: status === "delivered" ? 200 : null }));
      expect(explanation.reason, status).toMatch(/\S/);
      expect(explanation.reason, status).not.toMatch(RAW);
    }
    expect(explainDelivery(input({ status: "delivered" })).reason).toBe("Refersion received this order.");
    expect(explainDelivery(input({ status: "pending", kind: "cancel", waitsForPredecessor: true })).reason).toMatch(/order itself/);
  });
});
