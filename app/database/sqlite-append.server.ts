import Database from "libsql";
import { takeWriteTurn } from "./write-turns";

/*
 * An INSERT below Prisma, for the one write on the webhooks' fast path
 * (docs/decisions/0014-webhook-intake-fast-path.md). Through Prisma, even as raw SQL, each
 * group commit cost more CPU in the query engine and the adapter's row handling than SQLite took
 * to write the rows; here one statement, prepared once on a connection of its own, runs for each
 * row of a group inside one transaction. The connection takes this thread's write turn alone
 * (sqlite-adapter.ts), so it never waits on SQLite's lock for the thread's Prisma connection,
 * and its transaction runs to COMMIT without giving the event loop back: nothing else of the
 * thread runs in between. libsql's calls are synchronous, as the adapter's are.
 */

type Row = readonly (string | number | bigint | null)[];

/** The file a SQLite DATABASE_URL names, as libsql reads it: file:PATH, file:/ABS or file:///ABS, relative to the working folder. */
export function sqliteFileOf(databaseUrl: string): string {
  if (!databaseUrl.startsWith("file:")) throw new Error("Not a SQLite DATABASE_URL (file:...)");
  let rest = databaseUrl.slice("file:".length);
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const host = rest.slice(2, slash === -1 ? undefined : slash);
    if (host !== "" && host !== "localhost") throw new Error(`A file: DATABASE_URL names no host; got "${host}"`);
    rest = slash === -1 ? "" : rest.slice(slash);
  }
  if (rest.includes("?") || rest.includes("#")) throw new Error("The file: DATABASE_URL has a query or fragment, which this app does not read");
  const file = decodeURIComponent(rest);
  if (!file) throw new Error("The file: DATABASE_URL names no file");
  return file;
}

export class SqliteAppendStatement {
  #connection: { db: Database.Database; insert: Database.Statement } | null = null;

  /**
   * @param file the SQLite file (sqliteFileOf)
   * @param sql one INSERT with a placeholder per column; `ON CONFLICT DO NOTHING` makes a row
   *   already there count as not written
   */
  constructor(
    private readonly file: string,
    private readonly sql: string,
    /** As the Prisma connection's (sqlite-adapter.ts): how long another program's lock is waited for. */
    private readonly busyTimeoutMs: number,
  ) {}

  /** The connection, opened (busy timeout, WAL) and the statement prepared on first use, or after a failure. */
  #open() {
    if (this.#connection) return this.#connection;
    const db = new Database(this.file);
    try {
      // Another program's lock (a backup, `npm run shop`) is waited for, as on the Prisma connection.
      db.prepare(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`).get();
      db.prepare("PRAGMA journal_mode = WAL").get();
      // No checkpoint on this connection's commits: copying the WAL into the database file is left
      // to the app's other connections (SQLite's default, every 1,000 pages, on their commits),
      // off the path that acknowledges webhooks; it took milliseconds several times a second.
      db.prepare("PRAGMA wal_autocheckpoint = 0").get();
      this.#connection = { db, insert: db.prepare(this.sql) };
    } catch (error) {
      db.close();
      throw error;
    }
    return this.#connection;
  }

  /**
   * Writes the rows in one transaction, committed when this resolves; for each row, whether it
   * was written (false: one with the same key was already there). On any failure nothing is
   * written: the transaction is rolled back, and the connection closed and opened anew next time
   * (libsql 0.3 may leave a failed statement inside a transaction, see sqlite-adapter.ts).
   */
  async appendAll(rows: readonly Row[]): Promise<boolean[]> {
    const release = await takeWriteTurn(this.busyTimeoutMs, { alone: true });
    try {
      const { db, insert } = this.#open();
      try {
        db.exec("BEGIN IMMEDIATE");
        const written = rows.map((row) => insert.run(...row).changes > 0);
        db.exec("COMMIT");
        return written;
      } catch (error) {
        // Explicitly: closing alone leaves libsql's connection, and its lock, to garbage collection.
        try {
          db.exec("ROLLBACK");
        } catch {
          // Nothing had begun, or SQLite already rolled back.
        }
        this.close();
        throw error;
      }
    } finally {
      release();
    }
  }

  close() {
    const connection = this.#connection;
    this.#connection = null;
    try {
      connection?.db.close();
    } catch {
      // Best effort: the connection is not used again either way.
    }
  }
}
