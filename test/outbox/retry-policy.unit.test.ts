import { MAX_RETRY_DELAY_MS, RETRY_WINDOW_MS, nextRetry, retryDelayMs, shortestSeriesMs } from "~/outbox/retry-policy";

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

describe("the shortest a series of failures can take", () => {
  it("is never longer than a real series, whatever the jitter, up to the 72-hour window", () => {
    for (const jitter of [0, 0.001, 0.37, 0.5, 0.999, 1]) {
      const first = new Date("2026-11-26T00:00:00Z");
      let at = first;
      for (let failed = 1; ; failed += 1) {
        const decision = nextRetry({ now: at, firstAttemptAt: first, failedAttempts: failed, baseMs: 30_000, retryAfterMs: null, random: () => jitter });
        if (!decision.retry) break;
        // The last wait is cut short by the window's end; the next try then ends the series.
        if (decision.at.getTime() === first.getTime() + RETRY_WINDOW_MS) break;
        at = decision.at;
        expect(at.getTime() - first.getTime(), `jitter ${jitter}, try ${failed + 1}`).toBeGreaterThanOrEqual(shortestSeriesMs(failed, 30_000));
      }
    }
  });

  it("adds half of each capped wait", () => {
    expect(shortestSeriesMs(0, 30_000)).toBe(0);
    expect(shortestSeriesMs(3, 30_000)).toBe(15_000 + 30_000 + 60_000);
    expect(shortestSeriesMs(10, 30_000)).toBe(15_000 * (2 ** 7 - 1) + 3 * 30 * 60_000);
  });
});
