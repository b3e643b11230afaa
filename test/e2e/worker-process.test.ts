/**
 * `npm run worker`: the delivery worker in its own process (server/worker.mjs on the production
 * build), beside a web process started with DELIVERY_WORKER=off on the same database. The web
 * process only records orders; the worker process delivers them, and ends cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { startRefersionSandbox, DEFAULT_SANDBOX_KEYS, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { shopCli } from "../support/cli";
import { orderFixture } from "../support/fixtures";
import { freshDatabaseUrl, startProductionApp, type ProductionApp } from "../support/production-app";
import { webhookHeaders } from "../support/shopify-webhooks";
import { TEST_ENV } from "../support/test-env";

const SHOP = "worker-process.myshopify.com";
const ORDERS = 40;

let sandbox: RefersionSandbox;
let web: ProductionApp;
let worker: ChildProcess | null = null;
let workerOutput = "";
let databaseUrl: string;

function startWorkerProcess(): ChildProcess {
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
  child.stdout!.on("data", (chunk: Buffer) => (workerOutput += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (workerOutput += chunk.toString("utf8")));
  return child;
}

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  databaseUrl = freshDatabaseUrl();
  await shopCli(
    ["configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"],
    databaseUrl,
    { REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey },
  );
  web = await startProductionApp({
    DATABASE_URL: databaseUrl,
    REFERSION_WEBHOOK_URL: sandbox.webhookUrl,
    REFERSION_API_URL: sandbox.apiUrl,
    DELIVERY_WORKER: "off",
  });
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
  await web?.stop();
  await sandbox?.close();
});

describe("npm run worker beside a web process with DELIVERY_WORKER=off", () => {
  it("delivers what the web process recorded, each order once, and exits 0 on SIGTERM", async () => {
    const template = orderFixture("shopify-docs-order-1001-2026-07.json");
    const ids = Array.from({ length: ORDERS }, (_, index) => String(5_100_000 + index));
    const statuses = await Promise.all(
      ids.map(async (id) => {
        const body = JSON.stringify({ ...template, id: Number(id), admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#${id}` });
        const response = await fetch(`${web.url}/webhooks/orders/create`, {
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

    worker = startWorkerProcess();
    await sandbox.waitFor((received) => received.filter((request) => request.accepted).length >= ORDERS, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const accepted = sandbox.orders().map((request) => (request.body as { order_id: string }).order_id);
    expect(accepted.sort()).toEqual([...ids].sort());
    expect(web.output().filter((line) => line.includes('"delivery attempt"'))).toEqual([]);
    expect(workerOutput).toContain('"worker process ready"');

    expect(worker.exitCode, `the worker process ended early:\n${workerOutput}`).toBeNull();
    const exited = new Promise<number | null>((resolve) => worker!.once("exit", (code) => resolve(code)));
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(workerOutput).not.toMatch(/"level":"error"/);
  }, 120_000);
});
