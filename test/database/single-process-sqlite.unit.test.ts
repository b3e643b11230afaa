/**
 * The start-up rule that keeps a SQLite file to one app process
 * (app/database/single-process-sqlite.server.ts). test/e2e/worker-process.test.ts runs the
 * refused processes themselves, and the PostgreSQL split they point to.
 */
import { refuseSqliteSharedBetweenProcesses } from "~/database/single-process-sqlite.server";

const SQLITE = "file:/data/app.sqlite";
const POSTGRESQL = "postgresql://app@db.internal:5432/refersion";

describe("refuseSqliteSharedBetweenProcesses", () => {
  it("lets the web server with its worker run on SQLite", () => {
    expect(() => refuseSqliteSharedBetweenProcesses("web", { DATABASE_URL: SQLITE, DELIVERY_WORKER: "on" })).not.toThrow();
  });

  it("refuses a web server with DELIVERY_WORKER=off on SQLite, and `npm run worker` on SQLite, pointing at PostgreSQL", () => {
    expect(() => refuseSqliteSharedBetweenProcesses("web", { DATABASE_URL: SQLITE, DELIVERY_WORKER: "off" })).toThrow(
      /^DELIVERY_WORKER=off cannot run on a SQLite DATABASE_URL \(file:\).*use PostgreSQL \(docs\/deployment\.md\)\.$/,
    );
    for (const DELIVERY_WORKER of ["on", "off"] as const) {
      expect(() => refuseSqliteSharedBetweenProcesses("worker", { DATABASE_URL: SQLITE, DELIVERY_WORKER })).toThrow(
        /^`npm run worker` cannot run on a SQLite DATABASE_URL \(file:\).*use PostgreSQL \(docs\/deployment\.md\)\.$/,
      );
    }
  });

  it("lets PostgreSQL run any mix of web servers and worker processes", () => {
    for (const DELIVERY_WORKER of ["on", "off"] as const) {
      for (const role of ["web", "worker"] as const) {
        expect(() => refuseSqliteSharedBetweenProcesses(role, { DATABASE_URL: POSTGRESQL, DELIVERY_WORKER })).not.toThrow();
      }
    }
  });

  it("reads the parsed environment when given none", () => {
    // Set before the environment is first parsed (and cached) in this file.
    vi.stubEnv("DATABASE_URL", SQLITE);
    vi.stubEnv("DELIVERY_WORKER", "off");
    expect(() => refuseSqliteSharedBetweenProcesses("web")).toThrow(/DELIVERY_WORKER=off/);
  });
});
