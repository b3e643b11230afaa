/**
 * Child processes of a benchmark run: each server under test runs in its own Node process
 * (the load generator's work never shares its event loop), on 127.0.0.1, and is always
 * stopped by the run. CPU time is read from /proc.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { startAppProcess, type AppProcess } from "../app-process";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
/** The production build; BENCH_SERVER_BUILD points at another copy (inside the repository) for A/B runs. */
export const SERVER_BUILD = process.env.BENCH_SERVER_BUILD
  ? path.resolve(process.env.BENCH_SERVER_BUILD)
  : path.join(ROOT, "build", "server", "index.js");

export interface Child {
  name: string;
  pid: number;
  url: string;
  /** The last lines the process printed (or its log file's, when it writes one). */
  output(): string[];
  /** CPU time (user + system) used so far, in ms. */
  cpuMs(): number;
  /** CPU time of the process's main thread alone (the web server's event loop), in ms. */
  mainThreadCpuMs(): number;
  /** The most memory the process has held so far (VmHWM: peak resident set), in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const apps = new Set<AppProcess>();
/** Last resort when the run dies: no server outlives it. */
export function killAllChildren() {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const app of apps) void app.kill("SIGKILL");
}
process.on("exit", killAllChildren);

/** utime + stime from a /proc stat file, in ms (clock ticks are 1/100 s on Linux). */
function readStatCpuMs(file: string): number {
  try {
    const stat = fs.readFileSync(file, "utf8");
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The whole process's CPU time (all its threads), in ms. */
export const readCpuMs = (pid: number) => readStatCpuMs(`/proc/${pid}/stat`);

/** The main thread's CPU time (/proc/PID/task/PID/stat), in ms. */
export const readMainThreadCpuMs = (pid: number) => readStatCpuMs(`/proc/${pid}/task/${pid}/stat`);

/** VmHWM from /proc/PID/status, in MiB. */
export function readPeakRssMiB(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round(Number(match[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

interface StartOptions {
  name: string;
  args: string[];
  env: Record<string, string | undefined>;
  /** Ready when a line of output matches; its first group is the port. */
  readyLine: RegExp;
  timeoutMs?: number;
}

async function start(options: StartOptions): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: ROOT,
    env: options.env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const lines: string[] = [];
  const output = () => [...lines];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let port: string | null = null;
  let partial = "";
  const record = (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.trim()) continue;
      if (lines.length >= 200) lines.shift();
      lines.push(line);
      const match = options.readyLine.exec(line);
      if (match && port === null) port = match[1];
    }
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let url = "";
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().join("\n")}`);
    }
    if (port !== null) {
      url = `http://127.0.0.1:${port}`;
      break;
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${output().join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    name: options.name,
    pid: child.pid!,
    url,
    output,
    cpuMs: () => readCpuMs(child.pid!),
    mainThreadCpuMs: () => readMainThreadCpuMs(child.pid!),
    peakRssMiB: () => readPeakRssMiB(child.pid!),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const forced = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(forced);
      }
      running.delete(child);
    },
  };
}

const TSX = ["--import", "tsx"];

export function startTsServer(name: string, file: string, env: Record<string, string>): Promise<Child> {
  return start({ name, args: [...TSX, path.join(ROOT, file)], env: { ...process.env, ...env }, readyLine: /^listening (\d+)$/ });
}

export function startSandbox(): Promise<Child> {
  return start({
    name: "refersion-sandbox",
    args: [...TSX, path.join(ROOT, "scripts", "refersion-sandbox-cli.ts"), "--port", "0", "--no-bodies", "--quiet"],
    env: process.env,
    readyLine: /^Refersion sandbox listening on http:\/\/127\.0\.0\.1:(\d+)/,
  });
}

/** The production build under server/app-server.mjs, as `npm start` runs it (scripts/app-process.ts). */
export async function startApp(
  name: string,
  env: Record<string, string>,
  logFile: string,
  options: { nodeArgs?: string[]; shopifyAdminStandinUrl?: string } = {},
): Promise<Child> {
  const app = await startAppProcess({ env, logFile, serverBuild: SERVER_BUILD, ...options });
  apps.add(app);
  return {
    name,
    pid: app.pid,
    url: app.url,
    output: app.output,
    cpuMs: () => readCpuMs(app.pid),
    mainThreadCpuMs: () => readMainThreadCpuMs(app.pid),
    peakRssMiB: () => readPeakRssMiB(app.pid),
    stop: async () => {
      await app.stop();
      apps.delete(app);
    },
  };
}
