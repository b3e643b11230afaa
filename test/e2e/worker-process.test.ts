/**
 * `npm run worker`: the delivery worker in its own process (server/worker.mjs on the production
 * build), beside a web process started with DELIVERY_WORKER=off on the same PostgreSQL database.
 * The web process only records orders; the worker process delivers them, and ends cleanly on
 * SIGTERM. On a SQLite file both of those processes refuse to start, saying to use PostgreSQL:
 * SQLite serves one process (docs/decisions/0009-sqlite-single-process.md).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import prisma from "~/db.server";
import { startRefersionSandbox, DEFAULT_SANDBOX_KEYS, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { openProvider, type ProviderHarness } from "../database/providers";
import { shopCli } from "../support/cli";
import { orderFixture } from "../support/fixtures";
import { configureShop, enqueueFixtureOrder } from "../support/outbox";
import { startProductionApp, type ProductionApp } from "../support/production-app";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

const SHOP = "worker-process.myshopify.com";
const ORDERS = 40;
const USE_POSTGRESQL = /SQLite serves one process[^\n]*use PostgreSQL \(docs\/deployment\.md\)/;

let sandbox: RefersionSandbox;
let harness: ProviderHarness;

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWorkerProcess(databaseUrl: string): WorkerProcess {
  const child = spawn(process.execPath, [path.resolve("server/worker.mjs")], {
    env: {
      PATH: process.env.PATH ?? "",
      ...TEST_ENV,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      DATABASE_URL: databaseUrl,
      REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
      REFERSION_API_URL: sandbox.apiUrl,
      DELIVERY_POLL_MS: "100",
      // As a shared environment file for web and worker would say: the script runs the worker anyway.
      DELIVERY_WORKER: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  harness = await openProvider("postgresql");
}, 180_000);

afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

beforeEach(() => sandbox.reset());

describe("npm run worker beside a web process with DELIVERY_WORKER=off, on PostgreSQL", () => {
  let web: ProductionApp | undefined;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
    await web?.stop();
  });

  it("delivers what the web process recorded, each order once, and exits 0 on SIGTERM", async () => {
    const databaseUrl = await harness.freshDatabase();
    await shopCli(["configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"], databaseUrl, {
      REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey,
    });
    web = await startProductionApp({
      DATABASE_URL: databaseUrl,
      REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
      REFERSION_API_URL: sandbox.apiUrl,
      DELIVERY_WORKER: "off",
    });

    const template = orderFixture("shopify-docs-order-1001-2026-07.json");
    const ids = Array.from({ length: ORDERS }, (_, index) => String(5_100_000 + index));
    const statuses = await Promise.all(
      ids.map(async (id) => {
        const body = JSON.stringify({ ...template, id: Number(id), admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${id}` });
        const response = await fetch(`${web!.url}/webhooks/orders/create`, {
          method: "POST",
          headers: webhookHeaders({ topic: "orders/create", shop: SHOP, body, secret: TEST_ENV.SHOPIFY_API_SECRET, webhookId: `wh-${id}` }),
          body,
        });
        return response.status;
      }),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);

    // The web process sends nothing by itself.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sandbox.received).toEqual([]);

    worker = startWorkerProcess(databaseUrl);
    await sandbox.waitFor((received) => received.filter((request) => request.accepted).length >= ORDERS, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const accepted = sandbox.orders().map((request) => (request.body as { order_id: string }).order_id);
    expect(accepted.sort()).toEqual([...ids].sort());
    expect(web.output().filter((line) => line.includes('"delivery attempt"'))).toEqual([]);
    expect(worker.output()).toContain('"worker process ready"');

    expect(worker.child.exitCode, `the worker process ended early:\n${worker.output()}`).toBeNull();
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toMatch(/"level":"error"/);
  }, 120_000);
});

describe("on a SQLite file, SQLite serving one process", () => {
  it("`npm start` with DELIVERY_WORKER=off refuses to start, saying to use PostgreSQL", async () => {
    const starting = startProductionApp({ DATABASE_URL: process.env.DATABASE_URL!, DELIVERY_WORKER: "off" });
    await expect(starting).rejects.toThrow(/exited \(1\) before it was ready[\s\S]*DELIVERY_WORKER=off cannot run on a SQLite DATABASE_URL/);
    await expect(starting).rejects.toThrow(USE_POSTGRESQL);
    // The refusal is the message alone, without a stack trace.
    await expect(starting).rejects.not.toThrow(/\n\s+at /);
  }, 90_000);

  it("`npm run worker` refuses to start, saying to use PostgreSQL, and delivers nothing", async () => {
    await configureShop(SHOP, DEFAULT_SANDBOX_KEYS);
    const { deliveryId } = await enqueueFixtureOrder(SHOP, 5_200_000);

    const worker = startWorkerProcess(process.env.DATABASE_URL!);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/`npm run worker` cannot run on a SQLite DATABASE_URL/);
    expect(worker.output()).toMatch(USE_POSTGRESQL);
    expect(worker.output()).not.toContain('"worker process ready"');
    expect(worker.output()).not.toMatch(/\n\s+at |SqliteSharedError/);

    // The order stays for the one process that may deliver it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sandbox.received).toEqual([]);
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: deliveryId! } })).toMatchObject({
      status: "pending",
      attempts: 0,
      leaseOwner: null,
    });
  }, 90_000);
});
