/**
 * `npm start`'s background thread loads build/background/index.js, the bundle `npm run build`
 * makes of app/background/background-thread.server.ts beside the server build: only the thread's
 * modules (docs/decisions/0020-background-thread-bundle.md); the webhooks' writer thread loads
 * build/append-thread/index.js (app/database/append-thread.ts, decision 0014). A bundle missing,
 * or built beside another server build, stops the server at start with a message that says what
 * to run; it never runs old thread code beside newer routes. Checked on copies of the production build.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startAppProcess } from "../../scripts/app-process";
import { freshDatabaseUrl, IDLE_WORKER, SERVER_BUILD } from "../support/production-app";
import { TEST_ENV } from "../support/test-env";

const BACKGROUND_BUILD = path.join(path.dirname(path.dirname(SERVER_BUILD)), "background", "index.js");
const APPEND_THREAD_BUILD = path.join(path.dirname(path.dirname(SERVER_BUILD)), "append-thread", "index.js");
// Inside the project, so that the copies resolve their packages from its node_modules.
const COPIES = path.resolve(".cache", "test-builds");

/**
 * A copy of the production build: server/index.js, changed by `serverSuffix`, and the other
 * bundles beside it, except those left out; a bundle in `restamped` names another server build.
 */
function copyOfBuild({ serverSuffix = "", leftOut = [], restamped = [] }: { serverSuffix?: string; leftOut?: string[]; restamped?: string[] }): string {
  const build = path.dirname(path.dirname(SERVER_BUILD));
  const dir = path.join(COPIES, crypto.randomUUID());
  for (const bundle of fs.readdirSync(build)) {
    if (bundle === "server" || leftOut.includes(bundle)) continue;
    fs.cpSync(path.join(build, bundle), path.join(dir, bundle), { recursive: true });
    if (!restamped.includes(bundle)) continue;
    const file = path.join(dir, bundle, "index.js");
    const source = fs.readFileSync(file, "utf8");
    const restampedSource = source.replace(/serverBuildSha256 = "[0-9a-f]{64}"/, `serverBuildSha256 = "${"0".repeat(64)}"`);
    expect(restampedSource).not.toBe(source);
    fs.writeFileSync(file, restampedSource);
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

/** The names a thread's starting script (server/*.mjs) takes from its bundle's modules. */
function namesUsedBy(script: string): string[] {
  const source = fs.readFileSync(path.resolve("server", script), "utf8");
  const destructured = [...source.matchAll(/const \{([^}]*)\} = modules;/g)].flatMap((match) => match[1].split(",").map((name) => name.trim()));
  const used = [...source.matchAll(/\bmodules\.(\w+)/g)].map((match) => match[1]);
  return [...new Set([...destructured, ...used])].filter((name) => name && name !== "serverBuildSha256").sort();
}

describe("the server build holds what each thread runs", () => {
  // A bundle is accepted when the server build's hash matches: a change to the code a thread runs
  // must change the server build too, or a stale bundle would pass for a current one.
  it("exports every function the threads' scripts call, so that a change to any of them changes its hash", async () => {
    const script = `const build = await import(${JSON.stringify(`file://${SERVER_BUILD}`)}); console.log(JSON.stringify(Object.keys(build.entry.module))); process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, ...TEST_ENV, DATABASE_URL: freshDatabaseUrl() },
      timeout: 60_000,
    });
    const exported: string[] = JSON.parse(stdout.trim().split("\n").at(-1)!);
    for (const thread of ["background-thread.mjs", "append-thread.mjs"]) {
      const names = namesUsedBy(thread);
      expect(names.length).toBeGreaterThan(1);
      expect({ thread, missing: names.filter((name) => !exported.includes(name)) }).toEqual({ thread, missing: [] });
    }
  }, 90_000);
});

describe("the background thread's bundle", () => {
  it("holds the thread's modules without the web's: no React, Polaris or Remix routes", () => {
    const packages = packagesImportedBy(BACKGROUND_BUILD);
    expect(packages).toContain("@prisma/client");
    expect(packages.filter((name) => /^(react|react-dom|@shopify\/polaris|@remix-run\/react|@shopify\/app-bridge-react|isbot)(\/|$)/.test(name))).toEqual([]);
    // The server build does import them: the check would see them.
    expect(packagesImportedBy(SERVER_BUILD)).toEqual(expect.arrayContaining(["react", "@remix-run/react"]));
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
    await expect(startOn(copyOfBuild({ leftOut: ["background"] }))).rejects.toThrow(/background[/\\]index\.js is missing: `npm run build` builds it beside/);
  }, 90_000);
});

describe("the webhooks' writer thread's bundle", () => {
  it("holds its SQLite statement and the sealing, without Prisma or the web's packages", () => {
    const packages = packagesImportedBy(APPEND_THREAD_BUILD);
    expect(packages).toContain("libsql");
    expect(packages.filter((name) => /^(@prisma\/|react|@shopify\/|@remix-run\/)/.test(name))).toEqual([]);
  });

  it("stops the server at start when it was built beside another server build", async () => {
    await expect(startOn(copyOfBuild({ restamped: ["append-thread"] }))).rejects.toThrow(
      /append-thread[/\\]index\.js was not built beside the server build \(a stale or unfinished build\): run `npm run build`, which builds both/,
    );
  }, 90_000);

  it("stops the server at start when it is missing", async () => {
    await expect(startOn(copyOfBuild({ leftOut: ["append-thread"] }))).rejects.toThrow(/append-thread[/\\]index\.js is missing: `npm run build` builds it beside/);
  }, 90_000);
});
