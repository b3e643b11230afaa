/**
 * The production build in a process of its own, as `npm start` runs it (server/app-server.mjs),
 * on 127.0.0.1 and a free port: how the soak, the bench and the tests start the app. It is ready
 * once GET / answers; stop() sends SIGTERM (the app finishes what it is doing) and SIGKILL after
 * 5 seconds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort } from "./cli/free-port";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP_SERVER = path.join(ROOT, "server", "app-server.mjs");
export const SERVER_BUILD = path.join(ROOT, "build", "server", "index.js");
/** Reroutes the app's requests for https://<shop>.myshopify.com to a local Admin API stand-in. */
const SHOPIFY_FETCH_PRELOAD = path.join(ROOT, "scripts", "shopify-admin-fetch-preload.mjs");

export interface AppProcessOptions {
  /** The app's whole environment besides PATH, PORT and HOST (PORT and HOST given here win). */
  env: Record<string, string>;
  /** Another copy of the server build (the bench's A/B runs). */
  serverBuild?: string;
  /** Node's own options, before the server's file (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** The Admin API stand-in (scripts/shopify-admin-standin.ts) Shopify's hosts are rerouted to. */
  shopifyAdminStandinUrl?: string;
  /** Output goes to this file instead of memory (a server under load logs a line per request). */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface AppProcess {
  url: string;
  port: number;
  pid: number;
  /** What the server printed so far (JSON log lines); the file's last lines with `logFile`. */
  output(): string[];
  /** Sends a signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

function lastLines(file: string, count = 200): string[] {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-count);
  } catch {
    return [];
  }
}

/**
 * Node's options in `npm start` (package.json's start script: the V8 heap sizing of
 * docs/decisions/0020-background-thread-bundle.md), so that the tests, the soak and the bench run
 * the server as it runs in production. `npm run dev` gives the same (shopify.web.toml; a test
 * holds the two together).
 */
export function startScriptNodeOptions(startScript?: string): string[] {
  const script = startScript ?? (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const words = script.trim().split(/\s+/);
  const server = words.findIndex((word) => word.replace(/^\.\//, "") === "server/app-server.mjs");
  if (words[0] !== "node" || server === -1 || server !== words.length - 1) {
    throw new Error(`Expected "node [options] ./server/app-server.mjs" as the start script, got: ${script}`);
  }
  return words.slice(1, server);
}

export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  const serverBuild = options.serverBuild ?? SERVER_BUILD;
  if (!fs.existsSync(serverBuild)) {
    throw new Error(`${serverBuild} is missing. Build first: \`npm run build\` (\`npm test\` builds before the tests).`);
  }
  const port = await freePort();
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", ...options.env };
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (options.shopifyAdminStandinUrl) {
    env.SHOPIFY_ADMIN_STANDIN_URL = options.shopifyAdminStandinUrl;
    nodeArgs.push(`--import=${pathToFileURL(SHOPIFY_FETCH_PRELOAD).href}`);
  }
  const log = options.logFile ? fs.openSync(options.logFile, "a") : null;
  // The caller's options come last: for V8's flags, the last one given wins.
  const child: ChildProcess = spawn(process.execPath, [...startScriptNodeOptions(), ...nodeArgs, APP_SERVER, serverBuild], {
    cwd: ROOT,
    // Remix's typings make NODE_ENV required; the caller's env sets it.
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", log ?? "pipe", log ?? "pipe"],
  });
  if (log !== null) fs.closeSync(log);
  const lines: string[] = [];
  // A pipe read may end in the middle of a line: the rest of it comes with the next read.
  const recorder = () => {
    let partial = "";
    return (chunk: Buffer) => {
      const pieces = (partial + chunk.toString("utf8")).split("\n");
      partial = pieces.pop()!;
      for (const line of pieces) if (line.trim()) lines.push(line);
    };
  };
  child.stdout?.on("data", recorder());
  child.stderr?.on("data", recorder());
  const output = () => (options.logFile ? lastLines(options.logFile) : [...lines]);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  // Waits on the free port even when env names another: a server that cannot listen where it was
  // told must end in an error here, not pass for ready because something else answers there.
  const url = `http://127.0.0.1:${port}`;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running()) {
      throw new Error(`The app exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().join("\n")}`);
    }
    if (await fetch(`${url}/`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The app did not answer within ${timeoutMs / 1000} s:\n${output().join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (running()) child.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    pid: child.pid!,
    output,
    kill,
    async stop() {
      if (!running()) return;
      const forced = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await kill("SIGTERM");
      clearTimeout(forced);
    },
  };
}
