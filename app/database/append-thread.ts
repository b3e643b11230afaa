import type { MessagePort } from "node:worker_threads";
import { SqliteAppendStatement } from "./sqlite-append.server";
import { noteAppends } from "./write-turns";

/*
 * The fast path's writer thread (docs/decisions/0014-webhook-intake-fast-path.md). SQLite commits
 * synchronously, and with synchronous=FULL each commit waits for the disk (fsync): run on the web
 * server's thread, every group commit stopped it from reading and answering webhooks for as long
 * as the disk took, a third of its time in a full-speed run. In a thread of its own the commit
 * waits there while the web thread goes on, and what arrives meanwhile joins the next group.
 * `npm start` runs it (server/append-thread.mjs, on its own small bundle); elsewhere (tests, the
 * dev server) the statements run on the calling thread. The rows arrive ready to write (a
 * webhook's body sealed on the web thread, which has CPU to spare): the writer thread's own time
 * is what bounds intake at full speed, so it does nothing but write.
 */

/** A value of a row, written as it is. */
export type AppendValue = string | null;

/** What the web thread sends: one group of rows for one INSERT. */
interface AppendRequest {
  id: number;
  sql: string;
  rows: AppendValue[][];
}
/** What the writer thread answers: for each row, whether it was written; or why none was. */
type AppendAnswer = { id: number; written: boolean[] } | { id: number; error: string };

export interface AppendThreadOptions {
  /** The SQLite file (sqliteFileOf). */
  file: string;
  busyTimeoutMs: number;
}

/** The most rows one transaction of the writer thread holds: a bound on how long it holds the write lock. */
export const MAX_ROWS_PER_TRANSACTION = 1_000;

/**
 * The writer thread's side. The groups that arrive while a transaction commits (the web thread
 * sends each group at once, without waiting for the last answer) are written together in the
 * next one, up to MAX_ROWS_PER_TRANSACTION rows: one wait for the disk for all of them. Each
 * group is answered on its own: for each row whether it was written, or, if the transaction
 * failed, why (then none of its rows was written).
 */
export function serveAppends(port: MessagePort, { file, busyTimeoutMs }: AppendThreadOptions) {
  const statements = new Map<string, SqliteAppendStatement>();
  let waiting: AppendRequest[] = [];
  let writing = false;

  async function write(sql: string, requests: AppendRequest[]) {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = new SqliteAppendStatement(file, sql, busyTimeoutMs)));
    try {
      const rows = requests.flatMap((request) => request.rows);
      const written = await statement.appendAll(rows);
      // A burst: the background work yields to the appends while it lasts (write-turns.ts).
      noteAppends(rows.length);
      let first = 0;
      for (const request of requests) {
        port.postMessage({ id: request.id, written: written.slice(first, first + request.rows.length) } satisfies AppendAnswer);
        first += request.rows.length;
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      for (const request of requests) port.postMessage({ id: request.id, error: reason } satisfies AppendAnswer);
    }
  }

  async function writeWaiting() {
    while (waiting.length > 0) {
      // One SQL text at a time, in arrival order, and at most MAX_ROWS_PER_TRANSACTION rows.
      const sql = waiting[0].sql;
      const batch: AppendRequest[] = [];
      let rows = 0;
      for (const request of waiting) {
        if (request.sql !== sql || (batch.length > 0 && rows + request.rows.length > MAX_ROWS_PER_TRANSACTION)) break;
        batch.push(request);
        rows += request.rows.length;
      }
      waiting = waiting.slice(batch.length);
      await write(sql, batch);
    }
    writing = false;
  }

  port.on("message", (request: AppendRequest) => {
    waiting.push(request);
    if (writing) return;
    writing = true;
    // After the messages already queued have arrived: they join this transaction.
    setImmediate(() => void writeWaiting());
  });
}

/** The port of the writer thread, as the web thread holds it (a Worker). */
export interface AppendThreadPort {
  postMessage(message: AppendRequest): void;
  on(event: "message", listener: (answer: AppendAnswer) => void): unknown;
}

/** The web thread's side: sends a group and resolves with the thread's answer. */
export class AppendThreadClient {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(written: boolean[]): void; reject(error: Error): void }>();

  constructor(private readonly port: AppendThreadPort) {
    port.on("message", (answer) => {
      const pending = this.#pending.get(answer.id);
      if (!pending) return;
      this.#pending.delete(answer.id);
      if ("error" in answer) pending.reject(new Error(answer.error));
      else pending.resolve(answer.written);
    });
  }

  appendAll(sql: string, rows: AppendValue[][]): Promise<boolean[]> {
    const id = this.#nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.port.postMessage({ id, sql, rows });
    });
  }
}

// The writer thread's connection takes write turns with the other threads' (write-turns.ts).
export { shareWriteTurns } from "./write-turns";
