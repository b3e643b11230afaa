import { defineConfig } from "vitest/config";
import path from "node:path";

/**
 * Two projects, told apart by the file name:
 * - unit: `*.unit.test.ts(x)`, pure and fast (no server, no child process, no database, no
 *   browser); `npm run test:unit`, well under a minute. Its setup gives the test environment and
 *   an unusable DATABASE_URL, so a unit test that reaches the database fails at once.
 * - integration: every other `*.test.ts(x)`, each file with its own copy of a migrated SQLite
 *   database (test/setup/), servers, processes, PostgreSQL and Chromium.
 * `npx vitest run` (and `npm test`) runs both.
 */
const UNIT = "test/**/*.unit.test.{ts,tsx}";

export default defineConfig({
  resolve: { alias: { "~": path.resolve(__dirname, "app") } },
  test: {
    globals: true,
    environment: "node",
    pool: "forks",
    // Two cores here: two workers keep the machine responsive for the servers tests start.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [UNIT],
          setupFiles: ["test/setup/unit.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.{ts,tsx}"],
          exclude: [UNIT],
          globalSetup: ["test/setup/global-setup.ts"],
          setupFiles: ["test/setup/per-file.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
