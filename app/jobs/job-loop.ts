/**
 * The one loop every piece of background work runs in (delivering the outbox, resending past
 * orders, the hourly maintenance): a pass, then either the next pass at once (the pass did work,
 * so more is probably due) or a wait of `idleMs`. A failed pass is reported and the loop goes on
 * after the wait. Stopping lets the pass in progress finish.
 */
export interface JobLoopOptions {
  /** One pass; resolves true when it did work and another pass should follow at once. */
  pass: () => Promise<boolean>;
  /** How long an idle loop waits before its next pass. */
  idleMs: number;
  /** Told about a pass that threw; the loop goes on. */
  onError: (error: unknown) => void;
  /** Whether the loop's timers may keep the process alive (false for work beside a server). */
  keepsProcessAlive?: boolean;
}

export interface JobLoop {
  start(): void;
  /** Resolves once the pass in progress (if any) has finished; no pass starts afterwards. */
  stop(): Promise<void>;
  isRunning(): boolean;
  /** When the loop last completed a pass; null before the first one. */
  lastRunAt(): Date | null;
}

export function createJobLoop(options: JobLoopOptions): JobLoop {
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<boolean> | null = null;
  let lastRunAt: Date | null = null;

  function schedule(delay: number) {
    if (!running) return;
    timer = setTimeout(async () => {
      timer = null;
      current = options.pass().catch((error: unknown) => {
        options.onError(error);
        return false;
      });
      const more = await current;
      current = null;
      lastRunAt = new Date();
      schedule(more ? 0 : options.idleMs);
    }, delay);
    if (options.keepsProcessAlive === false) timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
    },
    isRunning: () => running,
    lastRunAt: () => lastRunAt,
  };
}
