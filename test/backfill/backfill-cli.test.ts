import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { setUpValidSession } from "@shopify/shopify-api/test-helpers";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { startShopifyAdminStandin } from "../../scripts/shopify-admin-standin";
import { openProvider, type ProviderHarness } from "../database/providers";
import { accessTokenFor, refreshTokenFor, storeOfflineSession } from "../support/admin-session";
import { shopCli } from "../support/cli";
import { pastOrders } from "../support/past-orders";
import { TEST_ENV } from "../support/test-env";

// The network boundary first: this process runs the job as the app would (`npm start` on the
// SQLite file), and its fetch for *.myshopify.com goes to the stand-in, rerouted before Shopify's
// library (imported by the app modules below) captures fetch.
const standin = await startShopifyAdminStandin({ appEnv: TEST_ENV, bucket: { maximumAvailable: 2_000, restoreRate: 100_000 } });
process.env.SHOPIFY_ADMIN_STANDIN_URL = standin.url;
await import("../../scripts/shopify-admin-fetch-preload.mjs");
const { default: prisma } = await import("~/db.server");
const { createConfiguredBackfillRunner } = await import("~/background/background-work.server");
const { configureLifecycleShop } = await import("../support/order-lifecycle");

const SHOP = "cli-backfill.myshopify.com";
const PRELOAD = pathToFileURL(path.resolve("scripts/shopify-admin-fetch-preload.mjs")).href;

interface CliRun {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

/**
 * `npm run -s shop -- backfill ...` as a process of its own (through tsx, as npm runs it), on this
 * test file's database, with its fetch for *.myshopify.com sent to the stand-in. Leases are short
 * so that a killed run is taken over quickly. `env` changes the environment (undefined: unset).
 */
function backfillCli(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const variables: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? "",
    ...TEST_ENV,
    DATABASE_URL: process.env.DATABASE_URL!,
    SHOPIFY_ADMIN_STANDIN_URL: standin.url,
    DELIVERY_LEASE_MS: "1500",
    REFERSION_TIMEOUT_MS: "1000",
    DELIVERY_POLL_MS: "100",
    ...env,
  };
  const child = spawn(process.execPath, ["--import", PRELOAD, "--import", "tsx", "scripts/shop-cli.ts", "backfill", ...args], {
    // Remix's typings make NODE_ENV required; TEST_ENV sets it.
    env: Object.fromEntries(Object.entries(variables).filter((entry) => entry[1] !== undefined)) as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    kill: (signal) => child.kill(signal),
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterAll(() => standin.close());
beforeEach(async () => {
  standin.requests.length = 0;
  await prisma.delivery.deleteMany();
  await prisma.backfillJob.deleteMany();
  await prisma.session.deleteMany();
  await configureLifecycleShop(SHOP);
});

// Each run starts a process of its own (tsx compiles the app first): generous on a busy machine.
describe("npm run -s shop -- backfill", { timeout: 180_000 }, () => {
  it("GIVEN a SQLite database THEN the command creates the job and follows it from the database while the app's runner reads the orders, and ends when the job is done", async () => {
    const orders = pastOrders(30, { start: "2026-11-01T06:00:00Z", firstId: 9_700_000 });
    standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: orders.map((order) => order.graphql) });
    await storeOfflineSession(SHOP);

    const cli = backfillCli([SHOP, "--since", "2026-11-01", "--until", "2026-11-10"]);
    await until(() => cli.stderr().includes("the app's own runner (npm start) reads the orders"));
    expect(cli.stderr()).toContain("Resending cli-backfill.myshopify.com's orders from 2026-11-01 to 2026-11-10");
    const job = await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } });
    expect(job).toMatchObject({ status: "queued", processed: 0, leaseOwner: null });
    // The command reads no order itself: a second process on the SQLite file would write too.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(standin.requests.filter((r) => r.operation === "orders" || r.operation === "order")).toEqual([]);

    // What the app's runner does with the job.
    expect(await createConfiguredBackfillRunner({ pollMs: 20, retryDelayMs: 50 }).runOnce(job.id)).toMatchObject({ outcome: "done" });
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toMatch(/\[#{30}\] 100% {2}30\/30 orders read, 30 queued for Refersion/);
    // (Shopify's library also prints its version on stdout when it loads.)
    expect(cli.stdout().trim().split("\n").at(-1)).toBe("30 orders read, 30 queued for Refersion (the app's delivery worker sends them)");
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { orderId: true } });
    expect(rows.map((row) => row.orderId).sort()).toEqual(orders.map((order) => String(order.rest.id)).sort());
  });

  it("GIVEN the command is stopped THEN the job stays for the app, which goes on with it", async () => {
    standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: [] });
    await storeOfflineSession(SHOP);
    const cli = backfillCli([SHOP, "--since", "2026-11-01"]);
    await until(() => cli.stderr().includes("the app's own runner (npm start) reads the orders"));
    cli.kill("SIGINT");
    expect(await cli.exited).toBe(130);
    expect(cli.stderr()).toContain("Stopped following after 0 orders; the app goes on with the job");
    expect(await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "queued", leaseOwner: null });
  });

  it("GIVEN a shop without a stored offline session THEN it says so, starts nothing and exits 1", async () => {
    const run = backfillCli([SHOP, "--since", "2026-11-01"]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("has no stored offline session");
    expect(await prisma.backfillJob.count()).toBe(0);
  });

  it.each([
    ["APP_ENCRYPTION_KEY is unset", { APP_ENCRYPTION_KEY: undefined }, "APP_ENCRYPTION_KEY: is required"],
    ["the lease is not longer than Refersion's timeout", { DELIVERY_LEASE_MS: "1000", REFERSION_TIMEOUT_MS: "1500" }, "DELIVERY_LEASE_MS: must be longer than REFERSION_TIMEOUT_MS"],
  ])("GIVEN %s THEN it names the variable before changing anything: no job, exit 1", async (_, env, problem) => {
    await storeOfflineSession(SHOP);
    const run = backfillCli([SHOP, "--since", "2026-11-01"], env);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("so it needs the app's environment");
    expect(run.stderr()).toContain(problem);
    expect(run.stderr()).not.toContain("Resending");
    expect(await prisma.backfillJob.count()).toBe(0);
  });

  it("GIVEN Shopify refuses the app's secret (invalid_client) THEN it tells the operator, records nothing for the shop, starts nothing and exits 1", async () => {
    const credentials = await storeOfflineSession(SHOP, { expires: new Date(Date.now() - 3_600_000) });
    standin.setShop(SHOP, { accessToken: credentials.accessToken, orders: [] });
    standin.tokens.set(SHOP, credentials);
    standin.tokens.requests.length = 0;

    const run = backfillCli([SHOP, "--since", "2026-11-01"], { SHOPIFY_API_SECRET: "shpss_rotated_2222222222222222cccc" });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("Shopify did not accept the app's credentials: check SHOPIFY_API_KEY and SHOPIFY_API_SECRET");
    expect(run.stderr() + run.stdout()).not.toContain("shpss_rotated_2222222222222222cccc");
    expect(standin.tokens.requests.map((request) => [request.grant, request.status, request.error])).toEqual([["refresh_token", 401, "invalid_client"]]);
    expect(await prisma.backfillJob.count()).toBe(0);
    expect((await prisma.shopSettings.findUniqueOrThrow({ where: { shop: SHOP } })).offlineAccessProblem).toBeNull();
    expect(await prisma.session.findUniqueOrThrow({ where: { id: `offline_${SHOP}` } })).toMatchObject({ refreshToken: credentials.refreshToken });
  });

  it("GIVEN access only the merchant can renew (revoked) THEN it says so, starts nothing and exits 1", async () => {
    const credentials = await storeOfflineSession(SHOP, { expires: new Date(Date.now() - 3_600_000) });
    standin.setShop(SHOP, { accessToken: credentials.accessToken, orders: [] });
    standin.tokens.set(SHOP, credentials);
    standin.tokens.revoke(SHOP);

    const run = backfillCli([SHOP, "--since", "2026-11-01"]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("Shopify refused to renew the app's access to this shop");
    expect(run.stderr()).toContain("The merchant must open the app from cli-backfill.myshopify.com's Shopify admin");
    expect(await prisma.backfillJob.count()).toBe(0);
  });

  it("GIVEN a bad date THEN it names the problem and exits 1", async () => {
    const run = backfillCli([SHOP, "--since", "2026-11-10", "--until", "2026-11-01"]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("To must be on or after From");
  });
});

describe("npm run -s shop -- backfill on PostgreSQL", { timeout: 180_000 }, () => {
  let harness: ProviderHarness;
  beforeAll(async () => {
    harness = await openProvider("postgresql");
  }, 180_000);
  afterAll(() => harness?.close());

  it("GIVEN a PostgreSQL database THEN the command runs the job itself and finishes it", async () => {
    const url = await harness.freshDatabase();
    const client = harness.client(url);
    const configured = await shopCli(["configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey], url, { REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey });
    expect(configured.stderr).not.toMatch(/error/i);
    const hour = 60 * 60 * 1000;
    await new PrismaSessionStorage(client).storeSession(
      setUpValidSession({
        shop: SHOP,
        isOnline: false,
        accessToken: accessTokenFor(SHOP),
        scope: TEST_ENV.SCOPES,
        expires: new Date(Date.now() + hour),
        refreshToken: refreshTokenFor(SHOP),
        refreshTokenExpires: new Date(Date.now() + 90 * 24 * hour),
      }),
    );
    const orders = pastOrders(20, { start: "2026-11-01T06:00:00Z", firstId: 9_800_000 });
    standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: orders.map((order) => order.graphql) });

    const cli = backfillCli([SHOP, "--since", "2026-11-01", "--until", "2026-11-10"], { DATABASE_URL: url });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stderr()).not.toContain("the app's own runner (npm start) reads the orders");
    expect(cli.stdout().trim().split("\n").at(-1)).toBe("20 orders read, 20 queued for Refersion (the app's delivery worker sends them)");
    expect(await client.backfillJob.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done", processed: 20, leaseOwner: null });
    expect(await client.delivery.count({ where: { shop: SHOP } })).toBe(20);
  });
});
