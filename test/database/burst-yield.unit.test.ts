/**
 * The background work's yielding to a burst of webhooks (app/database/write-turns.ts), on a
 * controllable clock: passes are skipped while the burst lasts, at most BURST_YIELD_MAX_MS in a
 * row, then one runs; outside a burst nothing yields.
 */
import { BURST_YIELD_MAX_MS, appendsInBurst, createBurstYield } from "~/database/write-turns";

function clockAt(start: number) {
  const clock = { now: start, advance: (ms: number) => (clock.now += ms) };
  return clock;
}

describe("yielding to a burst of appends", () => {
  it("never yields outside a burst", () => {
    const clock = clockAt(1_000);
    const shouldYield = createBurstYield(() => false, () => clock.now);
    for (let i = 0; i < 50; i++, clock.advance(200)) expect(shouldYield()).toBe(false);
  });

  it("yields while the burst lasts, and the next pass after it runs", () => {
    const clock = clockAt(1_000);
    let burstUntil = 1_600;
    const shouldYield = createBurstYield((now) => now < burstUntil, () => clock.now);
    expect([shouldYield(), (clock.advance(200), shouldYield()), (clock.advance(200), shouldYield())]).toEqual([true, true, true]);
    clock.advance(200);
    expect(shouldYield()).toBe(false);
    burstUntil = clock.now + 100;
    expect(shouldYield()).toBe(true);
  });

  it("in a burst that does not end, lets one pass run every BURST_YIELD_MAX_MS", () => {
    const clock = clockAt(0);
    const shouldYield = createBurstYield(() => true, () => clock.now);
    const ran: number[] = [];
    for (let t = 0; t <= 3 * BURST_YIELD_MAX_MS + 400; t += 200, clock.advance(200)) if (!shouldYield()) ran.push(clock.now);
    expect(ran).toEqual([BURST_YIELD_MAX_MS, 2 * BURST_YIELD_MAX_MS + 200, 3 * BURST_YIELD_MAX_MS + 400]);
  });

  it("knows of no burst without the shared memory of the server's threads", () => {
    expect(appendsInBurst()).toBe(false);
  });
});
