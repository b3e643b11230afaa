/**
 * The storefront's cost of the app embed: the script's transfer size, and the main-thread
 * time and long tasks of a theme page with the embed against the same page without it, in
 * Chromium on the fake storefront (scripts/fake-storefront.ts), nothing leaving the machine.
 *
 * Every load is a first visit from an affiliate link in a new tab: local storage is cleared and
 * the cart's attributes are reset, so the embed does all its work (Refersion's script,
 * /cart.js, /cart/update.js). Per load:
 * - CDP Performance.getMetrics once the page has settled: ScriptDuration and TaskDuration of
 *   the tab (read at the end only: a navigation may move the tab to a new renderer process,
 *   which restarts the counters);
 * - a PerformanceObserver('longtask') registered before any page script: the page's long tasks;
 * - a Chromium trace of the load: every main-thread task with its wall time and its thread
 *   (CPU) time, and which of them ran the embed's script (its evaluation and its callbacks).
 *   A long task is only blamed on the embed when it ran the embed. Thread time does not grow
 *   when other processes compete for the CPU; wall time does. (Promise continuations, e.g.
 *   reading the /cart.js answer, are not attributed to a script in traces; they are in
 *   ScriptDuration.)
 */
import fs from "node:fs";
import zlib from "node:zlib";
import { chromium, type Browser, type CDPSession } from "playwright-core";
import { CHROMIUM_LAUNCH_OPTIONS } from "../chromium";
import {
  SCRIPT_FILE,
  routeStorefront,
  startFakeStorefront,
} from "../fake-storefront";

const SCRIPT_NAME = "refersion-tracking.js";
export const LONG_TASK_MS = 50;
/** How long each load is observed from navigation (times the CPU throttling rate). */
const WINDOW_MS = 600;

export interface PageCost {
  loads: number;
  /** Medians per load, in ms. CDP metrics: */
  scriptMs: number;
  taskMs: number;
  /** From the trace: all main-thread tasks, wall and thread (CPU) time. */
  mainThreadWallMs: number;
  mainThreadCpuMs: number;
  /** Long tasks the page's PerformanceObserver saw, over all loads, and the longest. */
  longTasks: number;
  longestTaskMs: number;
  /** Requests to the storefront per load (median). */
  requests: number;
}

export interface EmbedScriptCost {
  /** Medians per load: main-thread tasks that ran the embed's script, and the script's own run time in them (wall and CPU). */
  tasks: number;
  ownWallMs: number;
  ownCpuMs: number;
  /** Over all loads: the longest single run of the embed's code (evaluation or a callback). */
  longestOwnWallMs: number;
  longestOwnCpuMs: number;
  /** Over all loads: the longest task that ran the embed's code (with whatever else ran in it), and how many took 50 ms or more (wall). */
  longestTaskWallMs: number;
  longestTaskCpuMs: number;
  longTasks: number;
}

export interface StorefrontRun {
  cpuThrottling: number;
  without: PageCost;
  with: PageCost;
  embedScript: EmbedScriptCost;
  /** Differences of the medians, with minus without. */
  addedScriptMs: number;
  addedTaskMs: number;
  addedMainThreadCpuMs: number;
}

export interface StorefrontResult {
  script: { file: string; bytes: number; gzipBytes: number; brotliBytes: number };
  runs: StorefrontRun[];
}

const median = (values: number[]) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round = (value: number) => Math.round(value * 100) / 100;

export function scriptSize(file = SCRIPT_FILE) {
  const source = fs.readFileSync(file);
  return {
    file: SCRIPT_NAME,
    bytes: source.length,
    gzipBytes: zlib.gzipSync(source, { level: 9 }).length,
    brotliBytes: zlib.brotliCompressSync(source).length,
  };
}

// Registered before any page script runs, so every long task of the load is seen.
const OBSERVE_LONG_TASKS = `(() => {
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.__longTasks.push(entry.duration); })
      .observe({ type: "longtask", buffered: true });
  } catch {}
})();`;

async function metrics(session: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = (await session.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
  return Object.fromEntries(list.map((metric) => [metric.name, metric.value]));
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; fileName?: string; data?: { url?: string } };
}

interface Task {
  wallMs: number;
  cpuMs: number;
  /** For tasks that ran the embed: the embed's own evaluation and callbacks within it. */
  ownWallMs?: number;
  ownCpuMs?: number;
  longestOwnWallMs?: number;
  longestOwnCpuMs?: number;
}

/** Main-thread tasks (DevTools' "RunTask") of every renderer, and those that ran the embed's script. */
function readTrace(trace: Buffer): { tasks: Task[]; embedTasks: Task[] } {
  const events = (JSON.parse(trace.toString("utf8")) as { traceEvents: TraceEvent[] }).traceEvents;
  const mainThreads = new Set(
    events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`),
  );
  const onMain = (e: TraceEvent) => e.ph === "X" && e.dur !== undefined && mainThreads.has(`${e.pid}:${e.tid}`);
  const runTasks = events.filter((e) => onMain(e) && e.name === "RunTask");
  const scriptWork = events.filter(
    (e) => onMain(e) && e.name !== "RunTask" && (e.args?.data?.url ?? e.args?.fileName ?? "").includes(SCRIPT_NAME),
  );
  const task = (e: TraceEvent): Task => ({ wallMs: e.dur! / 1000, cpuMs: (e.tdur ?? e.dur!) / 1000 });
  const embedTasks: Task[] = [];
  for (const t of runTasks) {
    const inside = scriptWork.filter((work) => work.pid === t.pid && work.tid === t.tid && work.ts >= t.ts && work.ts < t.ts + t.dur!);
    if (inside.length === 0) continue;
    // The script's own runs: its evaluation and the callbacks it registered (compilation is inside evaluation).
    const own = inside.filter((work) => work.name === "EvaluateScript" || work.name === "FunctionCall").map(task);
    embedTasks.push({
      ...task(t),
      ownWallMs: own.reduce((total, run) => total + run.wallMs, 0),
      ownCpuMs: own.reduce((total, run) => total + run.cpuMs, 0),
      longestOwnWallMs: Math.max(0, ...own.map((run) => run.wallMs)),
      longestOwnCpuMs: Math.max(0, ...own.map((run) => run.cpuMs)),
    });
  }
  return { tasks: runTasks.map(task), embedTasks };
}

interface LoadSample {
  script: number;
  task: number;
  longTasks: number[];
  requests: number;
  tasks: Task[];
  embedTasks: Task[];
}

async function measurePage(browser: Browser, embed: boolean, loads: number, cpuThrottling: number): Promise<LoadSample[]> {
  const windowMs = WINDOW_MS * cpuThrottling;
  const storefront = await startFakeStorefront({ embed, consent: "not-required", initialItems: 1 });
  const context = await browser.newContext();
  const samples: LoadSample[] = [];
  try {
    await routeStorefront(context);
    await context.addInitScript(OBSERVE_LONG_TASKS);
    // The first load warms the browser and the server up; it is not counted.
    for (let load = 0; load <= loads; load += 1) {
      const page = await context.newPage();
      const session = await context.newCDPSession(page);
      await session.send("Performance.enable");
      await session.send("Emulation.setCPUThrottlingRate", { rate: cpuThrottling });
      await session.send("Storage.clearDataForOrigin", { origin: storefront.origin, storageTypes: "local_storage" });
      storefront.cart.attributes = {}; // a new visitor's cart: the embed writes its attributes again
      const requestsBefore = storefront.requests.length;
      await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute"] });
      // The embed's work ends with writing the cart attributes; a page without it ends at load.
      const settled = embed
        ? page.waitForRequest((request) => request.url().endsWith("/cart/update.js"), { timeout: 15_000 })
        : Promise.resolve();
      const navigationStart = Date.now();
      await page.goto(storefront.url("/?rfsn=8908369.4f153d"), { waitUntil: "load" });
      await settled;
      // Both pages are observed for the same time, so idle work (frames, timers) weighs the same.
      await page.waitForTimeout(Math.max(100, navigationStart + windowMs - Date.now()));
      const after = await metrics(session);
      const trace = readTrace(await browser.stopTracing());
      const longTasks = (await page.evaluate("window.__longTasks")) as number[];
      await page.close();
      if (load === 0) continue;
      samples.push({
        script: after.ScriptDuration * 1000,
        task: after.TaskDuration * 1000,
        longTasks,
        requests: storefront.requests.length - requestsBefore,
        ...trace,
      });
    }
  } finally {
    await context.close();
    await storefront.close();
  }
  return samples;
}

const sum = (tasks: Task[], key: keyof Task) => tasks.reduce((total, task) => total + (task[key] ?? 0), 0);

function pageCost(samples: LoadSample[]): PageCost {
  const allLong = samples.flatMap((sample) => sample.longTasks);
  return {
    loads: samples.length,
    scriptMs: round(median(samples.map((sample) => sample.script))),
    taskMs: round(median(samples.map((sample) => sample.task))),
    mainThreadWallMs: round(median(samples.map((sample) => sum(sample.tasks, "wallMs")))),
    mainThreadCpuMs: round(median(samples.map((sample) => sum(sample.tasks, "cpuMs")))),
    longTasks: allLong.length,
    longestTaskMs: round(Math.max(0, ...allLong)),
    requests: median(samples.map((sample) => sample.requests)),
  };
}

function embedCost(samples: LoadSample[]): EmbedScriptCost {
  const all = samples.flatMap((sample) => sample.embedTasks);
  return {
    tasks: median(samples.map((sample) => sample.embedTasks.length)),
    ownWallMs: round(median(samples.map((sample) => sum(sample.embedTasks, "ownWallMs")))),
    ownCpuMs: round(median(samples.map((sample) => sum(sample.embedTasks, "ownCpuMs")))),
    longestOwnWallMs: round(Math.max(0, ...all.map((task) => task.longestOwnWallMs ?? 0))),
    longestOwnCpuMs: round(Math.max(0, ...all.map((task) => task.longestOwnCpuMs ?? 0))),
    longestTaskWallMs: round(Math.max(0, ...all.map((task) => task.wallMs))),
    longestTaskCpuMs: round(Math.max(0, ...all.map((task) => task.cpuMs))),
    longTasks: all.filter((task) => task.wallMs >= LONG_TASK_MS).length,
  };
}

export async function measureStorefront(options: { loads: number; cpuThrottling: number[] }): Promise<StorefrontResult> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  const runs: StorefrontRun[] = [];
  try {
    for (const rate of options.cpuThrottling) {
      const without = pageCost(await measurePage(browser, false, options.loads, rate));
      const withSamples = await measurePage(browser, true, options.loads, rate);
      const withEmbed = pageCost(withSamples);
      runs.push({
        cpuThrottling: rate,
        without,
        with: withEmbed,
        embedScript: embedCost(withSamples),
        addedScriptMs: round(withEmbed.scriptMs - without.scriptMs),
        addedTaskMs: round(withEmbed.taskMs - without.taskMs),
        addedMainThreadCpuMs: round(withEmbed.mainThreadCpuMs - without.mainThreadCpuMs),
      });
    }
  } finally {
    await browser.close();
  }
  return { script: scriptSize(), runs };
}
