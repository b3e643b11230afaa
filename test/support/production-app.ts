import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { TEST_ENV } from "./test-env";
import { freePort } from "../../scripts/cli/free-port";

export const SERVER_BUILD = path.resolve("build/server/index.js");
const APP_SERVER = path.resolve("server/app-server.mjs");

export interface ProductionApp {
  url: string;
  port: number;
  pid: number;
  /** Everything the server printed so far (JSON log lines, the access log among them). */
  output(): string[];
  /** Sends a signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** A migrated SQLite file of this test run, for a server process to use. */
export function freshDatabaseUrl(): string {
  const runDir = process.env.TEST_RUN_DIR;
  if (!runDir) throw new Error("TEST_RUN_DIR is not set: run through vitest");
  const file = path.join(runDir, `app-${crypto.randomUUID()}.sqlite`);
  fs.copyFileSync(path.join(runDir, "base.sqlite"), file);
  return `file:${file}`;
}

/**
 * Runs the production build as `npm start` does (server/app-server.mjs) on 127.0.0.1, with the test
 * environment plus `env`. The delivery worker runs unless env says DELIVERY_WORKER=off.
 */
export async function startProductionApp(env: Record<string, string>): Promise<ProductionApp> {
  if (!fs.existsSync(SERVER_BUILD)) {
    throw new Error(`${SERVER_BUILD} is missing. Build first: \`npm run build\` (\`npm test\` builds before the tests).`);
  }
  const port = await freePort();
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [APP_SERVER, SERVER_BUILD], {
    env: {
      PATH: process.env.PATH ?? "",
      ...TEST_ENV,
      NODE_ENV: "production",
      DELIVERY_WORKER: "on",
      LOG_LEVEL: "info",
      PORT: String(port),
      HOST: "127.0.0.1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A pipe read may end in the middle of a line: the rest of it comes with the next read.
  const recorder = () => {
    let partial = "";
    return (chunk: Buffer) => {
      const pieces = (partial + chunk.toString("utf8")).split("\n");
      partial = pieces.pop()!;
      for (const line of pieces) if (line.trim()) lines.push(line);
    };
  };
  child.stdout!.on("data", recorder());
  child.stderr!.on("data", recorder());
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The app exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${lines.join("\n")}`);
    }
    const ready = await fetch(`${url}/`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The app did not answer within 60 s:\n${lines.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }

  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url, port, pid: child.pid!, output: () => [...lines], kill, stop: () => kill("SIGTERM") };
}
