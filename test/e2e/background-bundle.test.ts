/**
 * `npm start`'s background thread loads build/background/index.js, the bundle `npm run build`
 * makes of app/background/background-thread.server.ts beside the server build: only the thread's
 * modules (docs/decisions/0020-background-thread-bundle.md). A bundle missing, or built beside
 * another server build, stops the server at start with a message that says what to run; it never
 * runs old background code beside newer routes. Checked on copies of the production build.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startAppProcess } from "../../scripts/app-process";
import { freshDatabaseUrl, IDLE_WORKER, SERVER_BUILD } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";

const BACKGROUND_BUILD = path.join(path.dirname(path.dirname(SERVER_BUILD)), "background", "index.js");
// Inside the project, so that the copies resolve their packages from its node_modules.
const COPIES = path.resolve(".cache", "test-builds");

/**
 * A copy of the production build: server/index.js, changed by `serverSuffix`, and the other
 * bundles beside it, the background bundle unless left out.
 */
function copyOfBuild({ serverSuffix = "", background = true }: { serverSuffix?: string; background?: boolean }): string {
  const build = path.dirname(path.dirname(SERVER_BUILD));
  const dir = path.join(COPIES, crypto.randomUUID());
  for (const bundle of fs.readdirSync(build)) {
    if (bundle === "server" || (bundle === "background" && !background)) continue;
    fs.cpSync(path.join(build, bundle), path.join(dir, bundle), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, "server"), { recursive: true });
  fs.writeFileSync(path.join(dir, "server", "index.js"), fs.readFileSync(SERVER_BUILD, "utf8") + serverSuffix);
  return path.join(dir, "server", "index.js");
}

function startOn(serverBuild: string) {
  return startAppProcess({
    env: { ...TEST_ENV, NODE_ENV: "production", DELIVERY_WORKER: "on", DATABASE_URL: freshDatabaseUrl(), ...IDLE_WORKER },
    serverBuild,
  });
}

/** The packages a bundle imports (its static and dynamic imports of bare specifiers). */
function packagesImportedBy(file: string): string[] {
  const source = fs.readFileSync(file, "utf8");
  const specifiers = [...source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"([^"./][^"]*)"/g)].map((match) => match[1]);
  return [...new Set(specifiers.filter((specifier) => !specifier.startsWith("node:")))].sort();
}

afterAll(() => fs.rmSync(COPIES, { recursive: true, force: true }));

describe("the background thread's bundle", () => {
  it("holds the thread's modules without the web's: no React, Polaris or Remix routes", () => {
    const packages = packagesImportedBy(BACKGROUND_BUILD);
    expect(packages).toContain("@prisma/client");
    expect(packages.filter((name) => /^(react|react-dom|@shopify\/polaris|@remix-run\/react|@shopify\/app-bridge-react|isbot)(\/|$)/.test(name))).toEqual([]);
    // The server build does import them: the check would see them.
    expect(packagesImportedBy(SERVER_BUILD)).toEqual(expect.arrayContaining(["react", "@shopify/polaris"]));
  });

  it("runs beside the server build it was built with", async () => {
    const app = await startOn(copyOfBuild({}));
    try {
      const health = await fetch(`${app.url}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await app.stop();
    }
  }, 90_000);

  it("stops the server at start when it was built beside another server build", async () => {
    await expect(startOn(copyOfBuild({ serverSuffix: "\n// rebuilt without the background bundle\n" }))).rejects.toThrow(
      /background[/\\]index\.js was not built beside .*server[/\\]index\.js \(a stale or unfinished build\): run `npm run build`, which builds both/,
    );
  }, 90_000);

  it("stops the server at start when it is missing", async () => {
    await expect(startOn(copyOfBuild({ background: false }))).rejects.toThrow(/background[/\\]index\.js is missing: `npm run build` builds it beside/);
  }, 90_000);
});
