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

/** The shared memory of the write turns: created once per process, given to each thread. */
export function createWriteTurns(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** This thread's connections take write turns in `buffer` from now on. */
export function shareWriteTurns(buffer: SharedArrayBuffer) {
  writeTurns = new Int32Array(buffer);
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
