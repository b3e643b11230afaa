/*
 * Write turns between the threads of the one process (`npm start` runs its background work in a
 * worker thread: server/background-thread.mjs). Each thread has its own connection, and SQLite's
 * own wait for the write lock is a sleep that gets longer each time (up to 100 ms) while the
 * other thread, never sleeping, takes the lock again and again: acknowledgements waited seconds
 * behind the background work. Here a thread takes a turn (a few integers in shared memory) before
 * it writes, waits for it without sleeping or blocking its event loop, and a released turn goes
 * to the waiting thread.
 * Within a thread the adapter already runs one operation at a time; a turn held by the same
 * thread is taken again. A connection of the thread's own beside its Prisma client (the fast
 * path's appends, sqlite-append.server.ts) takes the turn alone instead: it waits until the
 * thread's other connections hold none, and they wait while it holds it, since SQLite would
 * otherwise make one wait, blocking the thread, for a lock that only this same thread could
 * release. Without a shared buffer (one thread, tests) only the thread's own turns are counted.
 *
 * This module imports nothing: the fast path's writer thread (append-thread.ts) loads it alone.
 */
/** Node has had Atomics.waitAsync since 16; the project's TypeScript lib (ES2022) does not declare it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;
const TURN_FREE = 0;
const TURN_HELD = 1;
const TURN_HANDED_OVER = 2;
let writeTurns: Int32Array | null = null;
let turnsHeldHere = 0;
/** Whether the turn this thread holds was taken alone. */
let heldAloneHere = false;
/** Who waits, in this thread, for its turns to be given back. */
let waitingForTurnsHere: (() => void)[] = [];

/** Until when (ms since the epoch) the writer thread is busy with a burst of webhooks; in the same shared memory. */
let appendBurst: BigInt64Array | null = null;

/** The shared memory of the write turns: created once per process, given to each thread. */
export function createWriteTurns(): SharedArrayBuffer {
  // [0..8): the turn's state and its waiters (two Int32); [8..16): the end of the appends' burst.
  return new SharedArrayBuffer(16);
}

/** This thread's connections take write turns in `buffer` from now on. */
export function shareWriteTurns(buffer: SharedArrayBuffer) {
  writeTurns = new Int32Array(buffer, 0, 2);
  appendBurst = new BigInt64Array(buffer, 8, 1);
}

/*
 * Bursts. In a burst of webhooks the writer thread commits group after group; every transaction
 * of the background work (acting on received webhooks, delivering) makes the next group wait for
 * the turn, and its CPU and fsyncs slow the writer's. So while groups of BURST_ROWS or more are
 * written, the background work yields: its passes are skipped, for at most
 * BURST_YIELD_MAX_MS in a row, then one runs. The received webhooks are committed; they are acted
 * on after the burst. At a steady 200 webhooks/s a transaction holds one or two and nothing yields.
 */
/** A transaction of this many rows or more is a burst. */
export const BURST_ROWS = 8;
/** How long after such a transaction the burst is taken to go on. */
export const BURST_LINGER_MS = 250;
/** The longest the background work yields in a row: then one pass runs, burst or not. */
export const BURST_YIELD_MAX_MS = 2_000;

/** Called by the writer thread after each transaction, with its number of rows. */
export function noteAppends(rows: number, now = Date.now()) {
  if (appendBurst && rows >= BURST_ROWS) Atomics.store(appendBurst, 0, BigInt(now + BURST_LINGER_MS));
}

/** Whether the appends are in a burst now (always false without shared memory: one thread, tests). */
export function appendsInBurst(now = Date.now()): boolean {
  return appendBurst !== null && now < Number(Atomics.load(appendBurst, 0));
}

/**
 * For one loop of the background work: whether its next pass yields to a burst. `inBurst` and
 * `now` are given by tests; the process's are the shared memory and the clock.
 */
export function createBurstYield(inBurst: (now: number) => boolean = appendsInBurst, clock: () => number = Date.now) {
  let yieldingSince: number | null = null;
  return function shouldYield(): boolean {
    const now = clock();
    if (!inBurst(now)) {
      yieldingSince = null;
      return false;
    }
    yieldingSince ??= now;
    if (now - yieldingSince < BURST_YIELD_MAX_MS) return true;
    // Long enough: this pass runs, and the count starts again.
    yieldingSince = null;
    return false;
  };
}

const busyError = (timeoutMs: number) => new Error(`The database is busy: a connection of this process held its write turn for ${timeoutMs} ms`);

/** Resolves once this thread may take the turn (alone: none held here; otherwise: none held alone). */
async function untilTurnMayBeTakenHere(alone: boolean, deadline: number, timeoutMs: number): Promise<void> {
  while (alone ? turnsHeldHere > 0 : heldAloneHere) {
    const left = deadline - Date.now();
    if (left <= 0) throw busyError(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      waitingForTurnsHere.push(resolve);
      timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
  }
}

/**
 * This thread's write turn, once it has it (at most `timeoutMs` later); resolves to its release.
 * The wait is asynchronous: the thread's event loop goes on meanwhile (the web server's thread
 * keeps reading webhooks, which join the next group commit). `alone`: not taken again while
 * another connection of this thread holds it (see above).
 */
export async function takeWriteTurn(timeoutMs: number, { alone = false }: { alone?: boolean } = {}): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  if (alone ? turnsHeldHere > 0 : heldAloneHere) await untilTurnMayBeTakenHere(alone, deadline, timeoutMs);
  const turns = writeTurns;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    turnsHeldHere -= 1;
    if (turnsHeldHere > 0) return;
    heldAloneHere = false;
    if (turns) {
      // [0]: the turn's state; [1]: how many threads wait for it.
      Atomics.store(turns, 0, Atomics.load(turns, 1) > 0 ? TURN_HANDED_OVER : TURN_FREE);
      Atomics.notify(turns, 0, 1);
    }
    const waiting = waitingForTurnsHere;
    waitingForTurnsHere = [];
    for (const wake of waiting) wake();
  };
  const taken = () => {
    turnsHeldHere += 1;
    heldAloneHere = alone;
    return release;
  };
  if (!turns || turnsHeldHere > 0 || Atomics.compareExchange(turns, 0, TURN_FREE, TURN_HELD) === TURN_FREE) return taken();
  Atomics.add(turns, 1, 1);
  try {
    for (;;) {
      if (Atomics.compareExchange(turns, 0, TURN_HANDED_OVER, TURN_HELD) === TURN_HANDED_OVER) break;
      if (Atomics.compareExchange(turns, 0, TURN_FREE, TURN_HELD) === TURN_FREE) break;
      const left = deadline - Date.now();
      if (left <= 0) throw busyError(timeoutMs);
      const waiting = waitAsync(turns, 0, TURN_HELD, left);
      if (waiting.async) await waiting.value;
    }
  } finally {
    Atomics.sub(turns, 1, 1);
  }
  // Taken from another thread: this thread held none meanwhile (it would have held the state).
  return taken();
}
