import { env, type Env } from "../env.server";
import { providerFor } from "./driver-adapter";

/** The app's long-running processes: `npm start` (server/app-server.mjs) and `npm run worker` (server/worker.mjs). */
export type AppProcess = "web" | "worker";

const USE_POSTGRESQL =
  "SQLite serves one process: `npm start` with its delivery worker on. " +
  "For separate web and worker processes, or several instances, use PostgreSQL (docs/deployment.md).";

/** A start-up refused because SQLite would be shared; server/start-up-refusals.mjs knows it by name. */
export class SqliteSharedError extends Error {
  override name = "SqliteSharedError";
}

/**
 * Stops a start-up that would put a second app process on the SQLite file
 * (docs/decisions/0009-sqlite-single-process.md): a web server with DELIVERY_WORKER=off records
 * orders that only another process would deliver, and `npm run worker` is that other process.
 * PostgreSQL serves any mix. Throws a SqliteSharedError that says what to do instead.
 */
export function refuseSqliteSharedBetweenProcesses(
  role: AppProcess,
  config: Pick<Env, "DATABASE_URL" | "DELIVERY_WORKER"> = env(),
): void {
  if (providerFor(config.DATABASE_URL) !== "sqlite") return;
  if (role === "worker") {
    throw new SqliteSharedError(`\`npm run worker\` cannot run on a SQLite DATABASE_URL (file:). ${USE_POSTGRESQL}`);
  }
  if (config.DELIVERY_WORKER === "off") {
    throw new SqliteSharedError(
      `DELIVERY_WORKER=off cannot run on a SQLite DATABASE_URL (file:): nothing would deliver this server's orders. ${USE_POSTGRESQL}`,
    );
  }
}
