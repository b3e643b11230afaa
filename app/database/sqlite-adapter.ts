import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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
import { takeWriteTurn } from "./write-turns";

/*
 * SQLite serves one process of the app: the web server with its delivery worker, through one
 * PrismaClient (docs/decisions/0009-sqlite-single-process.md; start-up refuses anything else,
 * see single-process-sqlite.server.ts). Prisma's libSQL adapter already runs that client's
 * operations one at a time (a mutex held from BEGIN to COMMIT), so nothing in the process
 * competes for the file. What @libsql/client 0.8 still gets wrong for that one process:
 *
 * 1. Its `transaction()` hands its connection to the transaction and lazily opens a new one for
 *    the next call, without ever closing the old one: every Prisma transaction (updateMany,
 *    nested writes and $transaction are transactions) leaked a native connection and its file
 *    descriptors until garbage collection (tried here: 1,000 open descriptors after 500
 *    updateMany), and the new connection lacked the busy timeout (3.). Here a transaction is
 *    BEGIN ... COMMIT on the client's one connection; the adapter's mutex keeps every other
 *    operation off it meanwhile.
 * 2. Prisma begins its transactions DEFERRED. A deferred transaction that reads and then writes
 *    must upgrade its lock, and if another connection wrote in between, SQLite fails the upgrade
 *    at once (SQLITE_BUSY_SNAPSHOT in WAL mode) instead of waiting. Transactions begin IMMEDIATE:
 *    the write lock is taken, and waited for, at BEGIN.
 * 3. Short commands may still open the file beside the app for a moment (`npm run shop`,
 *    `prisma migrate deploy`, a backup). With a busy timeout SQLite waits for their lock instead
 *    of answering SQLITE_BUSY at once. It is a per-connection setting that libsql's Database has
 *    no option for, so the client sets it before the connection's first use. libsql calls are
 *    synchronous: while SQLite waits, the whole process waits, which is fine for such moments and
 *    is why a second app process on the file is refused rather than waited for.
 * 4. A connection that did answer SQLITE_BUSY (a lock held past the timeout) is closed and the
 *    operation fails: libsql 0.3 (under @libsql/client 0.8) does not reset the failed statement,
 *    so the connection stays inside an implicit transaction and every later write on it
 *    "succeeds" without ever being committed (tried here). The next operation opens a new one.
 *
 * The journal is WAL (the mode is stored in the file): readers, such as a backup, never block
 * the writer, and the writer never blocks them.
 */

// Until every importer names ./write-turns itself.
export { createWriteTurns, shareWriteTurns } from "./write-turns";

/** PRAGMA busy_timeout of the connection: how long a statement waits for another program's lock. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

const SQLITE_BUSY = 5;

/** Whether a libsql error means "the database is locked by another connection". */
export function isSqliteBusy(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, rawCode } = error as { code?: unknown; rawCode?: unknown };
  if (typeof rawCode === "number") return (rawCode & 0xff) === SQLITE_BUSY;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/** Whether a statement only reads (WAL readers never wait for the writer). */
function onlyReads(stmt: InStatement): boolean {
  const sql = typeof stmt === "string" ? stmt : stmt.sql;
  return /^\s*select\b/i.test(sql);
}

/** A transaction on the client's own connection (fact 1): BEGIN ... COMMIT / ROLLBACK. */
class ConnectionTransaction implements Transaction {
  #finished = false;

  constructor(
    private readonly connection: Client,
    private readonly onError: (error: unknown) => void,
    /** Gives back the write turn the transaction holds. */
    private readonly releaseTurn: () => void = () => undefined,
  ) {}

  get closed() {
    return this.#finished;
  }
  #ensureOpen() {
    if (this.#finished) throw new Error("The transaction is closed");
  }
  async execute(stmt: InStatement): Promise<ResultSet> {
    this.#ensureOpen();
    try {
      return await this.connection.execute(stmt);
    } catch (error) {
      this.onError(error);
      throw error;
    }
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
      await this.connection.execute("COMMIT");
    } catch (error) {
      await this.connection.execute("ROLLBACK").catch(() => undefined);
      this.onError(error);
      throw error;
    } finally {
      this.releaseTurn();
    }
  }
  async rollback(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    // SQLite may already have rolled back (after some errors): then there is nothing to undo.
    await this.connection.execute("ROLLBACK").catch(() => undefined);
    this.releaseTurn();
  }
  close(): void {
    if (!this.#finished) void this.rollback();
  }
}

/** The libsql client Prisma's adapter uses: one configured connection, transactions on it. */
export class SingleConnectionClient implements Client {
  #connection: Client | null = null;
  #closed = false;
  readonly protocol = "file";

  /** @param connect opens a new @libsql/client Client (a new connection) on the database */
  constructor(
    private readonly connect: () => Client,
    private readonly busyTimeoutMs: number = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
  ) {}

  get closed() {
    return this.#closed;
  }

  /** The connection, opened and configured (facts 3 and WAL) on first use, or after fact 4. */
  async #open(): Promise<Client> {
    if (this.#closed) throw new Error("The SQLite client is closed");
    if (this.#connection) return this.#connection;
    const connection = this.connect();
    try {
      await connection.execute(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      // Answers "memory" for in-memory databases, which have no journal file.
      await connection.execute("PRAGMA journal_mode = WAL");
    } catch (error) {
      connection.close();
      throw error;
    }
    this.#connection = connection;
    return connection;
  }

  /** Closes a connection that answered SQLITE_BUSY (fact 4); the next operation opens another. */
  #discardIfBusy(connection: Client, error: unknown) {
    if (!isSqliteBusy(error)) return;
    if (this.#connection === connection) this.#connection = null;
    try {
      connection.close();
    } catch {
      // Best effort: the connection is not used again either way.
    }
  }

  async #use<T>(operation: (connection: Client) => Promise<T>): Promise<T> {
    const connection = await this.#open();
    try {
      return await operation(connection);
    } catch (error) {
      this.#discardIfBusy(connection, error);
      throw error;
    }
  }

  /** An operation that may write, in this thread's write turn. */
  async #write<T>(operation: (connection: Client) => Promise<T>): Promise<T> {
    const release = await takeWriteTurn(this.busyTimeoutMs);
    try {
      return await this.#use(operation);
    } finally {
      release();
    }
  }

  execute(stmt: InStatement): Promise<ResultSet> {
    if (onlyReads(stmt)) return this.#use((connection) => connection.execute(stmt));
    return this.#write((connection) => connection.execute(stmt));
  }

  batch(stmts: InStatement[], mode: TransactionMode = "write"): Promise<ResultSet[]> {
    if (mode === "read") return this.#use((connection) => connection.batch(stmts, "read"));
    return this.#write((connection) => connection.batch(stmts, "write"));
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    const release = mode === "read" ? () => undefined : await takeWriteTurn(this.busyTimeoutMs);
    try {
      return await this.#use(async (connection) => {
        // IMMEDIATE (fact 2) for Prisma's "deferred" as well as for "write".
        await connection.execute(mode === "read" ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE");
        return new ConnectionTransaction(connection, (error) => this.#discardIfBusy(connection, error), release);
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#write((connection) => connection.executeMultiple(sql));
  }

  async sync(): Promise<void> {
    await this.#use((connection) => connection.sync());
  }

  close(): void {
    this.#closed = true;
    this.#connection?.close();
    this.#connection = null;
  }
}

/**
 * Prisma's libSQL adapter factory with the client above and a usable shadow database.
 *
 * The stock factory gives Prisma Migrate an in-memory shadow database (`:memory:`); because
 * every new libsql connection to `:memory:` is a different, empty database, migrations applied
 * to it vanish after the first transaction, and `prisma migrate diff --from-migrations` or
 * `migrate dev` compare against a half-empty schema. A throwaway file is used instead.
 */
export class SqliteAdapterFactory extends PrismaLibSQL {
  readonly #busyTimeoutMs: number;

  constructor(config: Config, busyTimeoutMs: number = DEFAULT_SQLITE_BUSY_TIMEOUT_MS) {
    super(config);
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * How long Prisma may wait to start a transaction: the busy timeout, and a second more. The
   * start waits for the adapter's turn behind the process's other queries, then for BEGIN
   * IMMEDIATE, which may wait the busy timeout; Prisma's default (2 s) is shorter than that.
   */
  get transactionMaxWaitMs(): number {
    return this.#busyTimeoutMs + 1_000;
  }

  override createClient(config: Config): Client {
    return new SingleConnectionClient(() => createClient(config), this.#busyTimeoutMs);
  }

  override async connectToShadowDb() {
    const file = path.join(os.tmpdir(), `prisma-shadow-${crypto.randomUUID()}.sqlite`);
    const adapter = await new SqliteAdapterFactory({ url: `file:${file}` }, this.#busyTimeoutMs).connect();
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
