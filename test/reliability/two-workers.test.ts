/**
 * Two delivery workers in two separate Node processes on one SQLite file (what two app
 * instances sharing a volume would be): 500 orders, each delivered to Refersion exactly once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import prisma from "~/db.server";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { configureShop, deliveryOf, enqueueFixtureOrder } from "../support/outbox";
import { TEST_ENV } from "../support/test-env";

const SHOP = "two-workers.myshopify.com";
const ORDERS = 500;
const FIRST_ORDER = 300_000;
const SCRIPT = path.resolve("test/reliability/worker-process.ts");

interface WorkerSummary {
  delivered: number;
  attempted: number;
  problems: string[];
}

function startWorker(name: string, sandbox: RefersionSandbox) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--import", "tsx", SCRIPT], {
    env: {
      PATH: process.env.PATH ?? "",
      ...TEST_ENV,
      DATABASE_URL: process.env.DATABASE_URL!,
      REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
      REFERSION_API_URL: sandbox.apiUrl,
      DELIVERY_WORKER: "on",
      DELIVERY_CONCURRENCY: "8",
      DELIVERY_POLL_MS: "50",
      DELIVERY_LEASE_MS: "60000",
      LOG_LEVEL: "info",
      WORKER_NAME: name,
    },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = readline.createInterface({ input: child.stdout });
  let markReady!: () => void;
  let report!: (summary: WorkerSummary) => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const summary = new Promise<WorkerSummary>((resolve, reject) => {
    report = resolve;
    fail = reject;
  });
  lines.on("line", (line) => {
    if (line === "ready") markReady();
    else if (line.startsWith("{")) report(JSON.parse(line) as WorkerSummary);
  });
  child.on("exit", (code) => fail(new Error(`${name} exited with ${code} before reporting:\n${stderr.slice(-3000)}`)));
  return {
    child,
    ready: Promise.race([ready, summary.then(() => undefined)]),
    summary,
    send: (line: string) => child.stdin.write(`${line}\n`),
  };
}

let sandbox: RefersionSandbox;

beforeAll(async () => {
  sandbox = await startRefersionSandbox({ recordBodies: false });
  await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
});
afterAll(async () => {
  await sandbox.close();
});

describe("two worker processes on one database file", () => {
  it(`deliver ${ORDERS} orders, each exactly once`, async () => {
    // One order through the real intake; the rest are copies of its outbox row with their own ids.
    await enqueueFixtureOrder(SHOP, FIRST_ORDER);
    const template = await deliveryOf(SHOP, String(FIRST_ORDER));
    const rows = Array.from({ length: ORDERS - 1 }, (_, index) => {
      const orderId = String(FIRST_ORDER + 1 + index);
      const body = { ...JSON.parse(template.requestBody!), order_id: orderId };
      return { shop: SHOP, orderId, orderName: `#${orderId}`, status: "pending" as const, requestBody: JSON.stringify(body), totalAmount: template.totalAmount, currency: template.currency };
    });
    await prisma.delivery.createMany({ data: rows });
    expect(await prisma.delivery.count({ where: { shop: SHOP, status: "pending" } })).toBe(ORDERS);

    const workers = [startWorker("worker-a", sandbox), startWorker("worker-b", sandbox)];
    let waiting = ORDERS;
    try {
      await Promise.all(workers.map((worker) => worker.ready));
      const started = Date.now();
      for (const worker of workers) worker.send("go");
      while (waiting > 0 && Date.now() - started < 40_000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        waiting = await prisma.delivery.count({ where: { shop: SHOP, status: { not: "delivered" } } });
      }
      // A moment for any duplicate to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      for (const worker of workers) worker.send("stop");
    }
    const [a, b] = await Promise.all(workers.map((worker) => worker.summary));
    expect({ waiting, a: { ...a, problems: a.problems.slice(0, 3) }, b: { ...b, problems: b.problems.slice(0, 3) } }).toEqual({ waiting: 0, a: { ...a, problems: [] }, b: { ...b, problems: [] } });

    // Lock contention must not surface as errors (SQLITE_BUSY / "database is locked").
    const problems = [...a.problems, ...b.problems];
    const busy = problems.filter((line) => /SQLITE_BUSY|database is locked/i.test(line));
    expect(busy, "SQLITE_BUSY between the two worker processes").toEqual([]);
    expect(problems).toEqual([]);

    // Exactly once, from Refersion's side...
    const accepted = sandbox.orders().map((request) => request.orderId!);
    expect(accepted).toHaveLength(ORDERS);
    expect(new Set(accepted).size).toBe(ORDERS);
    expect(sandbox.stats().total).toBe(ORDERS);
    // ...and from ours: one delivered row and one attempt per order.
    expect(await prisma.delivery.count({ where: { shop: SHOP, status: "delivered", attempts: 1 } })).toBe(ORDERS);
    expect(await prisma.deliveryAttempt.count({ where: { shop: SHOP } })).toBe(ORDERS);
    // Both processes took part.
    expect(a.delivered + b.delivered).toBe(ORDERS);
    expect(a.attempted + b.attempted).toBe(ORDERS);
    expect(a.delivered).toBeGreaterThan(0);
    expect(b.delivered).toBeGreaterThan(0);
  }, 60_000);
});
