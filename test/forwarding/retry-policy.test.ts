import { MAX_RETRY_DELAY_MS, RETRY_WINDOW_MS, nextRetry, retryDelayMs } from "~/forwarding/retry-policy";

describe("retry delays", () => {
  it.each([
    [1, 15_000, 30_000],
    [2, 30_000, 60_000],
    [3, 60_000, 120_000],
    [8, 1_800_000, 3_600_000],
    [9, 1_800_000, 3_600_000],
    [40, 1_800_000, 3_600_000],
  ])("failure %i waits between %i and %i ms", (failures, low, high) => {
    expect(retryDelayMs(failures, 30_000, () => 0)).toBe(low);
    expect(retryDelayMs(failures, 30_000, () => 1)).toBe(high);
    const sampled = retryDelayMs(failures, 30_000);
    expect(sampled).toBeGreaterThanOrEqual(low);
    expect(sampled).toBeLessThanOrEqual(high);
  });

  it("never waits more than an hour, whatever the base", () => {
    expect(retryDelayMs(3, 10 * MAX_RETRY_DELAY_MS, () => 1)).toBe(MAX_RETRY_DELAY_MS);
  });
});

describe("next retry", () => {
  const first = new Date("2026-01-01T00:00:00Z");

  it("honours a longer Retry-After, within the one-hour cap", () => {
    const now = new Date(first.getTime() + 1_000);
    const at = (retryAfterMs: number) => {
      const decision = nextRetry({ now, firstAttemptAt: first, failedAttempts: 1, baseMs: 30_000, retryAfterMs, random: () => 0 });
      if (!decision.retry) throw new Error("expected a retry");
      return decision.at.getTime() - now.getTime();
    };
    expect(at(0)).toBe(15_000);
    expect(at(120_000)).toBe(120_000);
    expect(at(7_200_000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it("makes the last try at the end of the 72-hour window, then gives up", () => {
    const nearEnd = new Date(first.getTime() + RETRY_WINDOW_MS - 60_000);
    const decision = nextRetry({ now: nearEnd, firstAttemptAt: first, failedAttempts: 20, baseMs: 30_000, retryAfterMs: null });
    expect(decision).toEqual({ retry: true, at: new Date(first.getTime() + RETRY_WINDOW_MS) });
    const atEnd = new Date(first.getTime() + RETRY_WINDOW_MS);
    expect(nextRetry({ now: atEnd, firstAttemptAt: first, failedAttempts: 21, baseMs: 30_000, retryAfterMs: null })).toEqual({ retry: false });
  });
});
