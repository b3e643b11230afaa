import type { MessagePort } from "node:worker_threads";
import { SqliteAppendStatement } from "./sqlite-append.server";

/*
 * The fast path's writer thread (docs/decisions/0014-webhook-intake-fast-path.md). SQLite commits
 * synchronously, and with synchronous=FULL each commit waits for the disk (fsync): run on the web
 * server's thread, every group commit stopped it from reading and answering webhooks for as long
 * as the disk took, a third of its time in a full-speed run. In a thread of its own the commit
 * waits there while the web thread goes on, and what arrives meanwhile joins the next group.
 * `npm start` runs it (server/append-thread.mjs, on its own small bundle); elsewhere (tests, the
 * dev server) the statements run on the calling thread.
 */

/** What the web thread sends: one group of rows for one INSERT. */
interface AppendRequest {
  id: number;
  sql: string;
  rows: (string | null)[][];
}
/** What the writer thread answers: for each row, whether it was written; or why none was. */
type AppendAnswer = { id: number; written: boolean[] } | { id: number; error: string };

export interface AppendThreadOptions {
  /** The SQLite file (sqliteFileOf). */
  file: string;
  busyTimeoutMs: number;
}

/** The writer thread's side: one statement per SQL text, one group at a time, each answered. */
export function serveAppends(port: MessagePort, { file, busyTimeoutMs }: AppendThreadOptions) {
  const statements = new Map<string, SqliteAppendStatement>();
  let queue = Promise.resolve();
  port.on("message", (request: AppendRequest) => {
    queue = queue.then(async () => {
      let statement = statements.get(request.sql);
      if (!statement) statements.set(request.sql, (statement = new SqliteAppendStatement(file, request.sql, busyTimeoutMs)));
      let answer: AppendAnswer;
      try {
        answer = { id: request.id, written: await statement.appendAll(request.rows) };
      } catch (error) {
        answer = { id: request.id, error: error instanceof Error ? error.message : String(error) };
      }
      port.postMessage(answer);
    });
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

  appendAll(sql: string, rows: (string | null)[][]): Promise<boolean[]> {
    const id = this.#nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.port.postMessage({ id, sql, rows });
    });
  }
}

// The writer thread's connection takes write turns with the other threads' (write-turns.ts).
export { shareWriteTurns } from "./write-turns";
