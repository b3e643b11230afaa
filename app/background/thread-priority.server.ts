import os from "node:os";
import { logger } from "../logger.server";

/*
 * The background thread of `npm start` (server/background-thread.mjs) runs at a lower CPU
 * priority than the web server's thread (docs/decisions/0014-webhook-intake-fast-path.md). In a
 * burst, acting on received webhooks costs a few ms of CPU each against a fraction of a ms to
 * acknowledge one; at equal priority the kernel shared a busy core between them and the
 * acknowledgements slowed. The received webhooks are committed, so the background work may fall
 * behind during a burst and catch up after it; while a core is idle it runs at full speed.
 *
 * Linux keeps the nice value per thread, and setpriority(2) on "the calling process" sets the
 * calling thread's only: called from the background thread, it leaves the web server's thread
 * (and threads it started before, such as libuv's pool) as they are. Raising one's own nice value
 * needs no privilege.
 */

/**
 * The background thread's nice value (0 normal, 19 lowest): it runs on the CPU time the other
 * threads do not want. Full-speed intake, paired runs on 2 cores (scripts/bench/profile.ts):
 * nice 0 about 3 600 webhooks/s, 10 about 4 100/s, 19 4 200 to 4 400/s.
 */
export const BACKGROUND_THREAD_NICE = 19;

/** Lowers the calling thread's CPU priority; logs and goes on where the system refuses. */
export function lowerThisThreadsCpuPriority(nice = BACKGROUND_THREAD_NICE) {
  if (process.platform !== "linux") return;
  try {
    os.setPriority(0, Math.max(os.getPriority(0), nice));
  } catch (error) {
    logger.warn("the background thread's CPU priority could not be lowered; it runs at the web server's", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
