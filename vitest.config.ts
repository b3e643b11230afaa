import { defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  resolve: { alias: { "~": path.resolve(__dirname, "app") } },
  test: {
    include: ["test/**/*.test.{ts,tsx}"],
    globals: true,
    environment: "node",
    pool: "forks",
    // Two cores here: two workers keep the machine responsive for the servers tests start.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ["test/setup/global-setup.ts"],
    setupFiles: ["test/setup/per-file.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
