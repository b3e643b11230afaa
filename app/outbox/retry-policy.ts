/** How long the worker keeps trying a delivery that fails for reasons a retry can fix. */
export const RETRY_WINDOW_MS = 72 * 60 * 60 * 1000;
/** The longest wait between two tries. */
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/**
 * Exponential backoff with jitter: the n-th failure waits between half and all of
 * base * 2^(n-1), capped at one hour. Jitter spreads retries of many orders that failed
 * together (Refersion down) so they do not return as one burst.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The least time `failedAttempts` failures of one series take, first try to latest: each wait is
 * at least half its ceiling (Retry-After only lengthens it). A row whose first try is more
 * recent than that has been restarted by a manual retry since its earlier failures.
 */
export function shortestSeriesMs(failedAttempts: number, baseMs: number): number {
  let total = 0;
  for (let failure = 1; failure <= failedAttempts; failure += 1) {
    total += Math.floor(Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(failure - 1, 30)) / 2);
  }
  return total;
}

export type RetryDecision = { retry: true; at: Date } | { retry: false };

/**
 * When to try again after a retryable failure, or not at all once 72 hours have passed since
 * the first try. A Retry-After from Refersion is honoured (within the one-hour cap), and the
 * last try is made at the end of the window rather than skipped.
 */
export function nextRetry(input: {
  now: Date;
  firstAttemptAt: Date;
  failedAttempts: number;
  baseMs: number;
  retryAfterMs: number | null;
  random?: () => number;
}): RetryDecision {
  const deadline = input.firstAttemptAt.getTime() + RETRY_WINDOW_MS;
  if (input.now.getTime() >= deadline) return { retry: false };
  const backoff = retryDelayMs(input.failedAttempts, input.baseMs, input.random);
  const delay = Math.min(MAX_RETRY_DELAY_MS, Math.max(backoff, input.retryAfterMs ?? 0));
  return { retry: true, at: new Date(Math.min(input.now.getTime() + delay, deadline)) };
}
