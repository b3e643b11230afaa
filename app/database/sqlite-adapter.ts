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
 * 1. `PRAGMA busy_timeout` is a per-connection setting, libsql's Database has no option for
 *    it, and @libsql/client 0.8 opens a fresh connection after every interactive transaction
 *    (`transaction()` hands its connection to the transaction and lazily opens another; Prisma
 *    runs updateMany, nested writes and $transaction that way). A pragma run once at start-up
 *    is therefore lost after the first transaction: the client below runs it again on the
 *    first use of every new connection.
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

export const DEFAULT_SQLITE_BUSY: SqliteBusyOptions = { lockWaitMs: 20, busyBudgetMs: 5_000 };

const SQLITE_BUSY = 5;

/** Whether a libsql error means "the database is locked by another connection". */
export function isSqliteBusy(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, rawCode } = error as { code?: unknown; rawCode?: unknown };
  if (typeof rawCode === "number") return (rawCode & 0xff) === SQLITE_BUSY;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

async function retryWhileBusy<T>(options: SqliteBusyOptions, operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.busyBudgetMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
      // 1, 2, 4 ... 32 ms, jittered so two waiting processes do not retry in lockstep.
      await sleep(Math.min(32, 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

/** A first-come, first-served async lock. */
class FifoLock {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves, in call order, with the function that lets the next caller in. */
  acquire(): Promise<() => void> {
    let letNextIn!: () => void;
    const released = new Promise<void>((resolve) => (letNextIn = resolve));
    const turn = this.#tail.then(() => {
      let done = false;
      return () => {
        if (done) return;
        done = true;
        letNextIn();
      };
    });
    this.#tail = this.#tail.then(() => released);
    return turn;
  }
}

// Shared through globalThis so a module evaluated twice (dev-server reloads) shares it too.
const LOCKS_KEY = Symbol.for("refersion-forwarder.sqlite-file-locks");
const fileLocks: Map<string, FifoLock> = ((globalThis as Record<symbol, unknown>)[LOCKS_KEY] ??= new Map()) as Map<
  string,
  FifoLock
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

function lockFor(url: string): FifoLock {
  const file = sqliteFileOf(url);
  if (!file) return new FifoLock();
  let lock = fileLocks.get(file);
  if (!lock) {
    lock = new FifoLock();
    fileLocks.set(file, lock);
  }
  return lock;
}

/** A transaction whose COMMIT is retried while another process holds the lock. */
class BusyTolerantTransaction implements Transaction {
  constructor(
    private readonly inner: Transaction,
    private readonly options: SqliteBusyOptions,
    private readonly release: () => void,
  ) {}

  get closed() {
    return this.inner.closed;
  }
  execute(stmt: InStatement): Promise<ResultSet> {
    return this.inner.execute(stmt);
  }
  batch(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.inner.batch(stmts);
  }
  executeMultiple(sql: string): Promise<void> {
    return this.inner.executeMultiple(sql);
  }
  async rollback(): Promise<void> {
    try {
      await this.inner.rollback();
    } finally {
      this.release();
    }
  }
  async commit(): Promise<void> {
    try {
      await retryWhileBusy(this.options, () => this.inner.commit());
    } catch (error) {
      this.inner.close(); // rolls back whatever is still open
      throw error;
    } finally {
      this.release();
    }
  }
  close(): void {
    try {
      this.inner.close();
    } finally {
      this.release();
    }
  }
}

/** The libsql client Prisma's adapter uses, made safe for several processes on one file. */
export class BusyTolerantClient implements Client {
  #configureNextConnection = true;
  #journalModeSet = false;

  constructor(
    private readonly inner: Client,
    private readonly options: SqliteBusyOptions = DEFAULT_SQLITE_BUSY,
    private readonly fileLock: FifoLock = new FifoLock(),
  ) {}

  get closed() {
    return this.inner.closed;
  }
  get protocol() {
    return this.inner.protocol;
  }

  /** Settings a new connection needs before its first statement. */
  async #configure(): Promise<void> {
    if (!this.#configureNextConnection) return;
    await this.inner.execute(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.options.lockWaitMs))}`);
    this.#configureNextConnection = false;
    if (!this.#journalModeSet) {
      // Stored in the database file; answers "memory" for in-memory databases, which is fine.
      await this.inner.execute("PRAGMA journal_mode = WAL");
      this.#journalModeSet = true;
    }
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
    return this.#exclusively(() =>
      retryWhileBusy(this.options, async () => {
        await this.#configure();
        return this.inner.execute(stmt);
      }),
    );
  }

  batch(stmts: InStatement[], mode: TransactionMode = "write"): Promise<ResultSet[]> {
    return this.#exclusively(() =>
      retryWhileBusy(this.options, async () => {
        await this.#configure();
        return this.inner.batch(stmts, mode === "read" ? "read" : "write");
      }),
    );
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    // Held until the transaction commits, rolls back or is closed.
    const release = await this.fileLock.acquire();
    try {
      return await retryWhileBusy(this.options, async () => {
        await this.#configure();
        // BEGIN IMMEDIATE (see 3. above) for Prisma's "deferred" as well as for "write".
        const transaction = await this.inner.transaction(mode === "read" ? "read" : "write");
        // The connection now belongs to the transaction; the next call opens a new one.
        this.#configureNextConnection = true;
        return new BusyTolerantTransaction(transaction, this.options, release);
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
      await retryWhileBusy(this.options, () => this.#configure());
      await this.inner.execute(`PRAGMA busy_timeout = ${Math.floor(this.options.busyBudgetMs)}`);
      try {
        await this.inner.executeMultiple(sql);
      } finally {
        await this.inner.execute(`PRAGMA busy_timeout = ${Math.floor(this.options.lockWaitMs)}`);
      }
    });
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  close(): void {
    this.inner.close();
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
    return new BusyTolerantClient(createClient(config), this.#busy, lockFor(config.url));
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
        for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true });
      }
    };
    return adapter;
  }
}
