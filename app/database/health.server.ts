/**
 * What GET /healthz reports: whether this instance can reach its database and whether its
 * delivery worker is still making passes. Only these three words leave the process: no error
 * text (it could name hosts or users), no shop data.
 */

export type WorkerHealth = "running" | "off" | "stalled";

export interface HealthReport {
  status: "ok" | "error";
  database: "ok" | "error";
  worker: WorkerHealth;
}

export interface WorkerProbe {
  isRunning(): boolean;
  /** When the worker last completed a pass; null before the first one. */
  lastRunAt(): Date | null;
}

export interface HealthInputs {
  /** Runs `SELECT 1` (or equivalent); rejects when the database does not answer. */
  pingDatabase: () => Promise<unknown>;
  /** DELIVERY_WORKER */
  workerMode: "on" | "off";
  worker: WorkerProbe | null;
  /** A worker whose last completed pass is older than this is stalled. */
  stalledAfterMs: number;
  /** How long this process has been up (a worker gets that long to complete its first pass). */
  uptimeMs: number;
  now: Date;
  databaseTimeoutMs?: number;
  /** Told why a check failed, for the server log. */
  onFailure?: (part: "database" | "worker", detail: string) => void;
}

/**
 * How old the worker's last pass may be. One pass delivers at most four rows per lane, each
 * bounded by the Refersion timeout, so a busy but healthy pass can take about 4 x timeout;
 * an idle worker passes every pollMs.
 */
export function stalledAfterMs(config: { pollMs: number; timeoutMs: number }): number {
  return Math.max(60_000, 10 * config.pollMs, 5 * config.timeoutMs);
}

async function databaseAnswers(inputs: HealthInputs): Promise<boolean> {
  const timeoutMs = inputs.databaseTimeoutMs ?? 3_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      inputs.pingDatabase(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return true;
  } catch (error) {
    inputs.onFailure?.("database", error instanceof Error ? error.message : String(error));
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function workerHealth(inputs: HealthInputs): WorkerHealth {
  if (inputs.workerMode === "off") return "off";
  const { worker } = inputs;
  if (!worker || !worker.isRunning()) {
    inputs.onFailure?.("worker", "DELIVERY_WORKER is on but no worker is running in this process");
    return "stalled";
  }
  const last = worker.lastRunAt();
  const age = last ? inputs.now.getTime() - last.getTime() : inputs.uptimeMs;
  if (age <= inputs.stalledAfterMs) return "running";
  inputs.onFailure?.(
    "worker",
    last ? `last pass completed ${Math.round(age / 1000)} s ago` : `no pass completed in ${Math.round(age / 1000)} s`,
  );
  return "stalled";
}

export async function checkHealth(inputs: HealthInputs): Promise<HealthReport> {
  const database = (await databaseAnswers(inputs)) ? "ok" : "error";
  const worker = workerHealth(inputs);
  return { status: database === "ok" && worker !== "stalled" ? "ok" : "error", database, worker };
}
