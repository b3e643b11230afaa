// The route is tested with the delivery worker switched on (the test default is off).
vi.hoisted(() => {
  process.env.DELIVERY_WORKER = "on";
});

import { checkHealth, stalledAfterMs, type HealthInputs } from "~/database/health.server";
import type { DeliveryWorker } from "~/outbox/worker.server";
import { loader } from "~/routes/healthz";

const NOW = new Date("2026-11-26T12:00:00.000Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);

function inputs(overrides: Partial<HealthInputs> = {}): HealthInputs {
  return {
    pingDatabase: async () => [{ one: 1 }],
    workerMode: "on",
    worker: { isRunning: () => true, lastRunAt: () => ago(1_000) },
    stalledAfterMs: 60_000,
    uptimeMs: 3_600_000,
    now: NOW,
    ...overrides,
  };
}

describe("checkHealth", () => {
  it("is ok when the database answers and the worker passed recently", async () => {
    expect(await checkHealth(inputs())).toEqual({ status: "ok", database: "ok", worker: "running" });
  });

  it("is ok with the worker switched off by configuration", async () => {
    expect(await checkHealth(inputs({ workerMode: "off", worker: null }))).toEqual({ status: "ok", database: "ok", worker: "off" });
  });

  it("gives a new worker until stalledAfterMs of uptime for its first pass", async () => {
    const starting = { isRunning: () => true, lastRunAt: () => null };
    expect((await checkHealth(inputs({ worker: starting, uptimeMs: 5_000 }))).worker).toBe("running");
    expect(await checkHealth(inputs({ worker: starting, uptimeMs: 61_000 }))).toEqual({
      status: "error",
      database: "ok",
      worker: "stalled",
    });
  });

  it("reports a worker whose last pass is too old, stopped, or missing as stalled", async () => {
    const failures: string[] = [];
    const onFailure = (part: string) => failures.push(part);
    const old = { isRunning: () => true, lastRunAt: () => ago(60_001) };
    const stopped = { isRunning: () => false, lastRunAt: () => ago(1_000) };
    expect((await checkHealth(inputs({ worker: old, onFailure }))).worker).toBe("stalled");
    expect((await checkHealth(inputs({ worker: stopped, onFailure }))).worker).toBe("stalled");
    expect((await checkHealth(inputs({ worker: null, onFailure }))).worker).toBe("stalled");
    expect(failures).toEqual(["worker", "worker", "worker"]);
  });

  it("reports a database that fails or does not answer in time, without its error text", async () => {
    const details: string[] = [];
    const failing = await checkHealth(
      inputs({
        pingDatabase: async () => {
          throw new Error("connect ECONNREFUSED 10.0.0.5:5432 user=app password=hunter2");
        },
        onFailure: (_part, detail) => details.push(detail),
      }),
    );
    expect(failing).toEqual({ status: "error", database: "error", worker: "running" });
    expect(JSON.stringify(failing)).not.toContain("hunter2");
    expect(details[0]).toContain("ECONNREFUSED");

    const hanging = await checkHealth(inputs({ pingDatabase: () => new Promise(() => {}), databaseTimeoutMs: 50 }));
    expect(hanging.database).toBe("error");
  });

  it("allows a busy worker pass (4 deliveries per lane) before calling it stalled", () => {
    expect(stalledAfterMs({ pollMs: 1_000, timeoutMs: 15_000 })).toBe(75_000);
    expect(stalledAfterMs({ pollMs: 50, timeoutMs: 1_000 })).toBe(60_000);
    expect(stalledAfterMs({ pollMs: 30_000, timeoutMs: 1_000 })).toBe(300_000);
  });
});

describe("GET /healthz", () => {
  afterEach(() => {
    globalThis.__deliveryWorker = undefined;
  });

  async function get() {
    const response = await loader();
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  it("answers 200 with the database and a running worker, as JSON that is never cached", async () => {
    globalThis.__deliveryWorker = { isRunning: () => true, lastRunAt: () => new Date() } as unknown as DeliveryWorker;
    const { status, headers, body } = await get();
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok", database: "ok", worker: "running" });
    expect(headers.get("content-type")).toContain("application/json");
    expect(headers.get("cache-control")).toBe("no-store");
  });

  it("answers 503 naming the worker when it has stopped making passes", async () => {
    globalThis.__deliveryWorker = {
      isRunning: () => true,
      lastRunAt: () => new Date(Date.now() - 10 * 60_000),
    } as unknown as DeliveryWorker;
    const { status, body } = await get();
    expect(status).toBe(503);
    expect(body).toEqual({ status: "error", database: "ok", worker: "stalled" });
  });

  it("answers 503 when DELIVERY_WORKER is on but no worker runs in this process", async () => {
    const { status, body } = await get();
    expect(status).toBe(503);
    expect(body.worker).toBe("stalled");
  });
});
