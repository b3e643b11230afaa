/**
 * The one loop of the app's background work (delivery, backfill, maintenance): passes follow
 * each other at once while they find work, wait when idle, survive a failing pass, and stop
 * only after the pass in progress.
 */
import { createJobLoop } from "~/jobs/job-loop";

const until = async (condition: () => boolean, timeoutMs = 2_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe("the job loop", () => {
  it("runs the next pass at once after one that did work, and waits idleMs after one that did not", async () => {
    const starts: number[] = [];
    let work = 3;
    const loop = createJobLoop({ pass: async () => (starts.push(Date.now()), work-- > 0), idleMs: 300, onError: () => {} });
    loop.start();
    await until(() => starts.length >= 5, 3_000);
    await loop.stop();
    // Three passes with work and the first idle one follow each other; the next waits.
    expect(starts[3] - starts[0]).toBeLessThan(250);
    expect(starts[4] - starts[3]).toBeGreaterThanOrEqual(290);
    expect(loop.lastRunAt()).not.toBeNull();
  });

  it("reports a failing pass and goes on", async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const loop = createJobLoop({
      pass: async () => {
        passes += 1;
        if (passes === 1) throw new Error("database locked");
        return false;
      },
      idleMs: 10,
      onError: (error) => errors.push(error),
    });
    loop.start();
    await until(() => passes >= 2);
    await loop.stop();
    expect(errors.map((error) => (error as Error).message)).toEqual(["database locked"]);
  });

  it("stops after the pass in progress, and starts no other", async () => {
    let release!: () => void;
    let passes = 0;
    let finished = false;
    const loop = createJobLoop({
      pass: async () => {
        passes += 1;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
        return true;
      },
      idleMs: 10,
      onError: () => {},
    });
    loop.start();
    expect(loop.isRunning()).toBe(true);
    await until(() => passes === 1);
    const stopped = loop.stop();
    expect(loop.isRunning()).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(1);
  });
});
