import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createClient,
  type Client,
  type Config,
  type InStatement,
  type ResultSet,
  type Transaction,
  type TransactionMode,
} from "@libsql/client";
import { PrismaLibSQL } from "@prisma/adapter-libsql";

/*
 * SQLite shared by several processes (e.g. two app instances on one host and one volume).
 *
 * A write needs the database's write lock; while another connection holds it SQLite answers
 * SQLITE_BUSY at once unless the connection has a busy timeout. These facts shape what follows:
 *
 * 1. `PRAGMA busy_timeout` is a per-connection setting and libsql's Database has no option for
 *    it: the client below runs it on the first use of every connection it opens.
 * 2. libsql calls are synchronous: while SQLite waits for a lock inside a call, the whole Node
 *    process waits with it. So the native wait is short (`lockWaitMs`) and the client retries
 *    busy operations itself, with jittered asynchronous backoff, until `busyBudgetMs` has
 *    passed. Only operations SQLite guarantees had no effect are retried: one statement
 *    outside a transaction, a batch (its own transaction, rolled back on failure), BEGIN, and
 *    COMMIT (SQLite documents that a busy COMMIT may simply be retried).
 * 3. Prisma opens its transactions DEFERRED; a deferred transaction that reads and then writes
 *    must upgrade its lock, and when another writer got in first SQLite fails the upgrade
 *    without waiting (SQLITE_BUSY_SNAPSHOT in WAL mode). Transactions are started IMMEDIATE
 *    instead: the write lock is taken (and waited for) at BEGIN.
 * 4. Within one process, connections to the same file are coordinated without SQLite: a FIFO
 *    lock per file lets one operation (or one transaction, BEGIN to COMMIT) through at a time.
 *    Polling SQLite's lock from the process that holds it could only block that holder (fact
 *    2), and would let one client starve another. One PrismaClient per process already works
 *    one operation at a time, so this costs nothing there; it matters to tests that run two
 *    clients (two "instances") in one process.
 * 5. SQLite's locking is not fair between processes: a busy process commits and begins its
 *    next transaction within microseconds, and a waiting process that polls (SQLite's own busy
 *    handler polls too) almost never finds the lock free; under sustained load it would starve
 *    for seconds and fail. So a waiting process leaves a note (`<file>-waiting`, its pid), and a
 *    process that has held the file back to back for 100 ms and finds a fresh note from another
 *    process pauses 30 ms before its next operation; the waiting process polls at least every
 *    ~12 ms, so it gets in during that pause. A process working alone never pauses.
 * 6. A libsql connection must not be used again after SQLITE_BUSY: libsql 0.3 (under
 *    @libsql/client 0.8) does not reset the failed statement, the connection stays inside an
 *    implicit transaction, and every later write on it "succeeds" without ever being committed
 *    (tried here: two processes writing with a short busy timeout lost almost every write).
 *    So the connection that answered busy is closed and the retry runs on a new one.
 *    (COMMIT is the exception: retrying a busy COMMIT on its connection does commit.)
 * 7. @libsql/client 0.8's own `transaction()` hands its connection to the transaction and
 *    lazily opens a new one for the next call, without ever closing the old one: every
 *    transaction (Prisma runs updateMany, nested writes and $transaction as transactions)
 *    leaked a native connection and its file descriptors until garbage collection (tried here:
 *    1,000 open descriptors after 500 updateMany), and lost the busy timeout with it. Here a
 *    transaction is BEGIN ... COMMIT on the client's one connection instead; Prisma's adapter
 *    and the per-file turns (fact 4) already keep everything else off it meanwhile.
 *
 * The journal is switched to WAL once per client (the mode is stored in the file): readers then
 * never block the writer and the writer never blocks readers.
 */

export interface SqliteBusyOptions {
  /** PRAGMA busy_timeout of every connection: how long one native call waits for a lock. */
  lockWaitMs: number;
  /** How long an operation keeps being retried while another process holds the lock. */
  busyBudgetMs: number;
}

export const DEFAULT_SQLITE_BUSY: SqliteBusyOptions = { lockWaitMs: 10, busyBudgetMs: 5_000 };

const SQLITE_BUSY = 5;

/** Whether a libsql error means "the database is locked by another connection". */
export function isSqliteBusy(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, rawCode } = error as { code?: unknown; rawCode?: unknown };
  if (typeof rawCode === "number") return (rawCode & 0xff) === SQLITE_BUSY;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

async function retryWhileBusy<T>(
  options: SqliteBusyOptions,
  operation: () => Promise<T>,
  onBusy: () => void = () => {},
): Promise<T> {
  const deadline = Date.now() + options.busyBudgetMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
      onBusy();
      // 1, 2, 4, 8, 8 ... ms, jittered so two waiting processes do not retry in lockstep; short
      // enough to try at least once while the holding process yields (FileTurns).
      await sleep(Math.min(8, 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

/**
 * A first-come, first-served async lock for one database file within this process (fact 4),
 * which also gives other processes their turn (fact 5): a process that is waiting for SQLite's
 * lock says so by writing its pid to `<file>-waiting`; a process that has held the file back to
 * back for `holdBudgetMs` and sees a fresh note from another process pauses `yieldMs`.
 */
class FileTurns {
  #tail: Promise<void> = Promise.resolve();
  #lastReleaseAt = 0;
  #streakStart = 0;
  #lastNoteAt = 0;

  constructor(
    private readonly waitingNote: string | null = null,
    private readonly holdBudgetMs = 100,
    private readonly yieldMs = 30,
  ) {}

  /** Called while this process waits for another one's write lock. */
  noteWaiting(): void {
    if (!this.waitingNote) return;
    const now = Date.now();
    if (now - this.#lastNoteAt < 5) return;
    this.#lastNoteAt = now;
    try {
      fs.writeFileSync(this.waitingNote, String(process.pid));
    } catch {
      // Only a courtesy to the other process: without it, waiting still works, less fairly.
    }
  }

  /** Whether another process has been waiting for the file within the last 200 ms. */
  #anotherProcessWaits(now: number): boolean {
    if (!this.waitingNote) return false;
    try {
      const note = fs.statSync(this.waitingNote, { throwIfNoEntry: false });
      if (!note || now - note.mtimeMs > 200) return false;
      return fs.readFileSync(this.waitingNote, "utf8") !== String(process.pid);
    } catch {
      return false;
    }
  }

  /** Resolves, in call order, with the function that lets the next caller in. */
  acquire(): Promise<() => void> {
    let letNextIn!: () => void;
    const released = new Promise<void>((resolve) => (letNextIn = resolve));
    const turn = this.#tail.then(async () => {
      const now = Date.now();
      if (now - this.#lastReleaseAt > 2) {
        this.#streakStart = now; // the file was free for a moment: a new streak
      } else if (now - this.#streakStart >= this.holdBudgetMs && this.#anotherProcessWaits(now)) {
        await sleep(this.yieldMs);
        this.#streakStart = Date.now();
      }
      let done = false;
      return () => {
        if (done) return;
        done = true;
        this.#lastReleaseAt = Date.now();
        letNextIn();
      };
    });
    this.#tail = turn.then(() => released);
    return turn;
  }
}

// Shared through globalThis so a module evaluated twice (dev-server reloads) shares it too.
const LOCKS_KEY = Symbol.for("refersion-forwarder.sqlite-file-locks");
const fileLocks: Map<string, FileTurns> = ((globalThis as Record<symbol, unknown>)[LOCKS_KEY] ??= new Map()) as Map<
  string,
  FileTurns
>;

/** The database file a libsql URL names; null for in-memory databases (nothing to share). */
export function sqliteFileOf(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  let location = url.slice("file:".length);
  if (location.startsWith("//")) location = decodeURIComponent(new URL(url).pathname);
  location = location.split("?")[0];
  if (location === "" || location === ":memory:" || location.startsWith(":memory:")) return null;
  return path.resolve(location);
}

function lockFor(url: string): FileTurns {
  const file = sqliteFileOf(url);
  if (!file) return new FileTurns();
  let lock = fileLocks.get(file);
  if (!lock) {
    lock = new FileTurns(`${file}-waiting`);
    fileLocks.set(file, lock);
  }
  return lock;
}

/**
 * A transaction on the client's own connection (fact 7): BEGIN ... COMMIT / ROLLBACK, with this
 * process's turn on the file held throughout, so nothing else uses the connection meanwhile.
 */
class ConnectionTransaction implements Transaction {
  #finished = false;

  constructor(
    private readonly connection: Client,
    private readonly options: SqliteBusyOptions,
    private readonly finish: (connectionUsable: boolean) => void,
  ) {}

  get closed() {
    return this.#finished;
  }
  #ensureOpen() {
    if (this.#finished) throw new Error("The transaction is closed");
  }
  async execute(stmt: InStatement): Promise<ResultSet> {
    this.#ensureOpen();
    return this.connection.execute(stmt);
  }
  async batch(stmts: InStatement[]): Promise<ResultSet[]> {
    const results: ResultSet[] = [];
    for (const stmt of stmts) results.push(await this.execute(stmt));
    return results;
  }
  async executeMultiple(): Promise<void> {
    // @libsql/client's executeMultiple rolls back any open transaction when it ends.
    throw new Error("executeMultiple is not supported inside a transaction");
  }
  async commit(): Promise<void> {
    this.#ensureOpen();
    this.#finished = true;
    try {
      // A busy COMMIT leaves the transaction open and may be retried on the same connection;
      // the connection is replaced afterwards all the same (fact 6).
      let retried = false;
      await retryWhileBusy(
        this.options,
        () => this.connection.execute("COMMIT"),
        () => (retried = true),
      );
      this.finish(!retried);
    } catch (error) {
      await this.connection.execute("ROLLBACK").catch(() => undefined);
      this.finish(false);
      throw error;
    }
  }
  async rollback(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    try {
      await this.connection.execute("ROLLBACK");
      this.finish(true);
    } catch {
      // SQLite may already have rolled back (after some errors): nothing left to undo, but the
      // connection is not trusted again.
      this.finish(false);
    }
  }
  close(): void {
    if (!this.#finished) void this.rollback();
  }
}

/** The libsql client Prisma's adapter uses, made safe for several processes on one file. */
export class BusyTolerantClient implements Client {
  #inner: Client | null = null;
  #configureNextConnection = true;
  #journalModeSet = false;
  #nextJournalModeAttempt = 0;
  #closed = false;
  readonly protocol = "file";

  /** @param connect opens a new @libsql/client Client (a new connection) on the database */
  constructor(
    private readonly connect: () => Client,
    private readonly options: SqliteBusyOptions = DEFAULT_SQLITE_BUSY,
    private readonly fileLock: FileTurns = new FileTurns(),
  ) {}

  get closed() {
    return this.#closed;
  }

  /** The current connection, configured (fact 1 above). */
  async #client(): Promise<Client> {
    if (this.#closed) throw new Error("The SQLite client is closed");
    this.#inner ??= this.connect();
    if (this.#configureNextConnection) {
      await this.#inner.execute(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.options.lockWaitMs))}`);
      this.#configureNextConnection = false;
      if (!this.#journalModeSet && Date.now() >= this.#nextJournalModeAttempt) {
        // Stored in the database file. Answers "memory" for in-memory databases, and the old
        // mode (or SQLITE_BUSY) while another connection is using the file: then the switch is
        // tried again on a later connection, and this operation goes on regardless.
        try {
          const { rows } = await this.#inner.execute("PRAGMA journal_mode = WAL");
          const mode = String(rows[0]?.[0] ?? "").toLowerCase();
          this.#journalModeSet = mode === "wal" || mode === "memory";
        } catch (error) {
          if (!isSqliteBusy(error)) throw error;
          this.#discardConnection();
          this.#nextJournalModeAttempt = Date.now() + 1_000;
          return this.#client();
        }
        if (!this.#journalModeSet) this.#nextJournalModeAttempt = Date.now() + 1_000;
      }
    }
    return this.#inner;
  }

  /** Closes a connection that answered SQLITE_BUSY (fact 6 above); the next call opens another. */
  #discardConnection() {
    const tainted = this.#inner;
    this.#inner = null;
    this.#configureNextConnection = true;
    try {
      tainted?.close();
    } catch {
      // Closing is best effort: the connection is not used again either way.
    }
  }

  /** Runs an operation that SQLite leaves without effect when it answers busy, retrying it. */
  #retrying<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    return retryWhileBusy(
      this.options,
      async () => {
        try {
          return await operation(await this.#client());
        } catch (error) {
          if (isSqliteBusy(error)) this.#discardConnection();
          throw error;
        }
      },
      () => this.fileLock.noteWaiting(),
    );
  }

  async #exclusively<T>(operation: () => Promise<T>): Promise<T> {
    const release = await this.fileLock.acquire();
    try {
      return await operation();
    } finally {
      release();
    }
  }

  execute(stmt: InStatement): Promise<ResultSet> {
    return this.#exclusively(() => this.#retrying((client) => client.execute(stmt)));
  }

  batch(stmts: InStatement[], mode: TransactionMode = "write"): Promise<ResultSet[]> {
    // A batch runs in its own transaction, rolled back when it fails: retrying it is safe.
    return this.#exclusively(() => this.#retrying((client) => client.batch(stmts, mode === "read" ? "read" : "write")));
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    // This process's turn on the file is held until the transaction commits or rolls back.
    const release = await this.fileLock.acquire();
    try {
      const connection = await this.#retrying(async (client) => {
        // IMMEDIATE (fact 3) for Prisma's "deferred" as well as for "write".
        await client.execute(mode === "read" ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE");
        return client;
      });
      return new ConnectionTransaction(connection, this.options, (connectionUsable) => {
        if (!connectionUsable && this.#inner === connection) this.#discardConnection();
        release();
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  executeMultiple(sql: string): Promise<void> {
    // Scripts (migrations) run statement by statement and cannot be retried half-way, so they
    // wait natively instead, with the whole budget; blocking the event loop is acceptable there.
    return this.#exclusively(async () => {
      const client = await this.#retrying(async (connection) => {
        await connection.execute(`PRAGMA busy_timeout = ${Math.floor(this.options.busyBudgetMs)}`);
        return connection;
      });
      try {
        await client.executeMultiple(sql);
      } catch (error) {
        if (isSqliteBusy(error)) this.#discardConnection();
        throw error;
      } finally {
        if (this.#inner === client) await client.execute(`PRAGMA busy_timeout = ${Math.floor(this.options.lockWaitMs)}`);
      }
    });
  }

  async sync(): Promise<void> {
    await (await this.#client()).sync();
  }

  close(): void {
    this.#closed = true;
    this.#inner?.close();
    this.#inner = null;
  }
}

/**
 * Prisma's libSQL adapter factory with the busy handling above and a usable shadow database.
 *
 * The stock factory gives Prisma Migrate an in-memory shadow database (`:memory:`); because
 * every new libsql connection to `:memory:` is a different, empty database, migrations applied
 * to it vanish after the first transaction, and `prisma migrate diff --from-migrations` or
 * `migrate dev` compare against a half-empty schema. A throwaway file is used instead.
 */
export class SqliteAdapterFactory extends PrismaLibSQL {
  readonly #busy: SqliteBusyOptions;

  constructor(config: Config, busy: Partial<SqliteBusyOptions> = {}) {
    super(config);
    this.#busy = { ...DEFAULT_SQLITE_BUSY, ...busy };
  }

  /** How long Prisma may wait to start a transaction: the busy budget, and a second more. */
  get transactionMaxWaitMs(): number {
    return this.#busy.busyBudgetMs + 1_000;
  }

  override createClient(config: Config): Client {
    return new BusyTolerantClient(() => createClient(config), this.#busy, lockFor(config.url));
  }

  override async connectToShadowDb() {
    const file = path.join(os.tmpdir(), `prisma-shadow-${crypto.randomUUID()}.sqlite`);
    const adapter = await new SqliteAdapterFactory({ url: `file:${file}` }, this.#busy).connect();
    // Prisma's WebAssembly schema engine applies each migration to the shadow database as ONE
    // raw statement; libsql runs only the first statement of a string it is given that way, so
    // the shadow schema would lack everything after the first CREATE TABLE. Parameterless raw
    // statements on the shadow database are run as scripts instead.
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query);
      await adapter.executeScript(query.sql);
      return 0;
    };
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      try {
        await dispose();
      } finally {
        for (const suffix of ["", "-wal", "-shm", "-journal", "-waiting"]) fs.rmSync(file + suffix, { force: true });
      }
    };
    return adapter;
  }
}
