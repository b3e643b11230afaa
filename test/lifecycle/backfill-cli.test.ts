import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import prisma from "~/db.server";
import { accessTokenFor, storeOfflineSession } from "../admin/support/admin-session";
import { startShopifyGraphqlStandin, type ShopifyGraphqlStandin } from "../support/shopify-graphql-standin";
import { TEST_ENV } from "../support/test-env";
import { configureLifecycleShop } from "./support/lifecycle";
import { pastOrders } from "./support/past-orders";

const SHOP = "cli-backfill.myshopify.com";
const PRELOAD = pathToFileURL(path.resolve("test/support/shopify-admin-fetch-preload.mjs")).href;

let standin: ShopifyGraphqlStandin;

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
 * so that a killed run is taken over quickly.
 */
function backfillCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ["--import", PRELOAD, "--import", "tsx", "scripts/shop-cli.ts", "backfill", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      ...TEST_ENV,
      DATABASE_URL: process.env.DATABASE_URL!,
      SHOPIFY_ADMIN_STANDIN_URL: standin.url,
      DELIVERY_LEASE_MS: "1500",
      REFERSION_TIMEOUT_MS: "1000",
      DELIVERY_POLL_MS: "100",
    },
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

beforeAll(async () => {
  standin = await startShopifyGraphqlStandin({ maximumAvailable: 2_000, restoreRate: 100_000 });
});
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
  it("GIVEN a run killed mid-way THEN the same command takes the job over from its last saved page and finishes it, each order recorded once", async () => {
    const orders = pastOrders(110, { start: "2026-11-01T06:00:00Z", firstId: 9_700_000 });
    standin.setShop(SHOP, { accessToken: accessTokenFor(SHOP), orders: orders.map((order) => order.graphql) });
    standin.setBucket({ orderDelayMs: 15 });
    await storeOfflineSession(SHOP);

    const first = backfillCli([SHOP, "--since", "2026-11-01", "--until", "2026-11-10"]);
    await until(() => standin.requests.filter((r) => r.operation === "order").length >= 65);
    first.kill("SIGKILL");
    await first.exited;
    // Its progress line was printed as each page was saved (not a terminal: one line per change).
    expect(first.stderr()).toContain("Resending cli-backfill.myshopify.com's orders from 2026-11-01 to 2026-11-10");
    expect(first.stderr()).toMatch(/\[#{14}-{16}\] {2}45% {2}50\/110 orders read, 50 queued for Refersion/);

    const killed = await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } });
    expect(killed).toMatchObject({ status: "running", processed: 50, enqueued: 50, total: 110 });
    expect(killed.leaseOwner).not.toBeNull();
    const pagesBefore = standin.requests.filter((r) => r.operation === "page").length;

    const second = backfillCli([SHOP, "--since", "2026-11-01", "--until", "2026-11-10"]);
    expect(await second.exited).toBe(0);
    expect(second.stderr()).toContain("already has a job (orders from 2026-11-01 to 2026-11-10): following it");
    expect(second.stderr()).toMatch(/\[#{30}\] 100% {2}110\/110 orders read, 110 queued for Refersion/);
    // (Shopify's library also prints its version on stdout when it loads.)
    expect(second.stdout().trim().split("\n").at(-1)).toBe("110 order(s) read, 110 queued for Refersion (the app's delivery worker sends them)");

    // Taken over where the dead run saved it, not from the first page.
    expect(standin.requests.filter((r) => r.operation === "page")[pagesBefore].variables.after).toBe(killed.cursor);
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, select: { orderId: true } });
    expect(rows.map((row) => row.orderId).sort()).toEqual(orders.map((order) => String(order.rest.id)).sort());
    expect(await prisma.backfillJob.findFirstOrThrow({ where: { shop: SHOP } })).toMatchObject({ status: "done", processed: 110, enqueued: 110, leaseOwner: null });
  });

  it("GIVEN a shop without a stored offline session THEN it says so, starts nothing and exits 1", async () => {
    const run = backfillCli([SHOP, "--since", "2026-11-01"]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("has no stored offline session");
    expect(await prisma.backfillJob.count()).toBe(0);
  });

  it("GIVEN a bad date THEN it names the problem and exits 1", async () => {
    const run = backfillCli([SHOP, "--since", "2026-11-10", "--until", "2026-11-01"]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("To must be on or after From");
  });
});
