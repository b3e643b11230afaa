import { findPostgresBinaries } from "../../scripts/local-postgres";

describe("scripts/local-postgres.ts", () => {
  it("finds Debian's server binaries", () => {
    expect(findPostgresBinaries()).toMatch(/bin$/);
  });

  it("fails loudly, saying what to install, when the binaries are missing", () => {
    expect(() => findPostgresBinaries("/nonexistent/bin", "/nonexistent/postgresql")).toThrow(
      /PostgreSQL server binaries \(initdb, pg_ctl, postgres\) were not found .*\/nonexistent\/bin.*\.ci\/postgres-setup\.sh/s,
    );
  });
});
