/**
 * npm run demo: the product end to end on this machine, with nothing else to set up.
 * A fresh SQLite file is migrated, a local Refersion stand-in and the production build of the
 * app are started, a demo shop is configured, and Shopify-signed orders/create webhooks made
 * from the real order fixtures are sent (plus a duplicate and a forged one). Every request
 * Refersion receives is shown, then the delivery table. The stand-in then plays Refersion's
 * conversion webhooks: it credits some orders to an affiliate, approves or denies some, reports
 * nothing for others (and sends a duplicate, a late pending and a wrongly signed one); the demo
 * ends with each order's outcome and the home page's attribution rate. Exits 0 when every order
 * arrived once and every outcome is the one planned.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startScriptNodeOptions } from "./app-process";
import { startRefersionSandbox, DEFAULT_SANDBOX_KEYS } from "./refersion-sandbox";
import type { ConversionPlan } from "./refersion-conversions";
import { renderTable } from "./cli/delivery-table";
import { freePort } from "./cli/free-port";
import { describeReason } from "../app/admin/delivery-reasons";

const root = path.resolve(import.meta.dirname, "..");
// The real order payloads kept in the repository (test/fixtures/orders/SOURCES.md).
const fixturesDir = path.join(root, "test", "fixtures", "orders");
const workDir = path.join(root, ".cache", "demo");
const SHOP = "demo-store.myshopify.com";
/** The order placed with Buy it now (sent without its cart token), and the click the checkout pixel reports for it. */
const BUY_IT_NOW_FIXTURE = "real-aud-order-1030-2020.json";
const PIXEL_CLICK = { id: "demo-click-8908369", affiliateId: "8908369", cs: "4f153d" };
const API_SECRET = `demo-secret-${crypto.randomBytes(8).toString("hex")}`;
/** The signing secret the merchant copies from Refersion's webhook settings into the app. */
const SIGNING_SECRET = `whsec_demo_${crypto.randomBytes(8).toString("hex")}`;

/** What the stand-in, as Refersion, does with the n-th order it receives, and the outcome the app must show. */
const CONVERSION_PLANS: { plan: ConversionPlan; expected: string }[] = [
  { plan: { outcome: "approve", outOfOrder: true, delayMs: 200 }, expected: "credited" },
  { plan: { outcome: "credit", affiliate: 1, duplicates: 1 }, expected: "credited" },
  { plan: { outcome: "deny", deniedReason: "Self-referral" }, expected: "denied" },
  { plan: { outcome: "none" }, expected: "waiting" },
  { plan: { outcome: "credit", wrongSignature: true }, expected: "waiting" },
];

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text = "") => console.log(text);
const step = (text: string) => say(`\n${bold(`== ${text}`)}`);

/** No build yet, or a source file changed since the last one: the demo must show this code. */
function buildIsStale(): boolean {
  const built = path.join(root, "build", "server", "index.js");
  // The background thread's bundle is built right after the server build (npm run build).
  if (!fs.existsSync(built) || !fs.existsSync(path.join(root, "build", "background", "index.js"))) return true;
  const builtAt = fs.statSync(built).mtimeMs;
  const sources = fs.readdirSync(path.join(root, "app"), { recursive: true, withFileTypes: true });
  return sources.some((entry) => entry.isFile() && fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs > builtAt);
}

function sign(body: string, secret: string) {
  return crypto.createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

class Fatal extends Error {}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((error) => {
      if (error instanceof Fatal) throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let receiverToken = "";

async function main() {
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const databaseUrl = `file:${path.join(workDir, "demo.sqlite")}`;
  const appPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    SHOPIFY_API_KEY: "demo-api-key",
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: `http://127.0.0.1:${appPort}`,
    SCOPES: "read_orders,read_themes",
    DATABASE_URL: databaseUrl,
    APP_ENCRYPTION_KEY: crypto.randomBytes(32).toString("hex"),
    DELIVERY_RETRY_BASE_MS: "500",
    DELIVERY_POLL_MS: "200",
    LOG_LEVEL: "warn",
    PORT: String(appPort),
    HOST: "127.0.0.1",
  };

  step("1. A fresh SQLite database");
  execFileSync("npx", ["prisma", "migrate", "deploy"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  say(`   migrated ${databaseUrl}`);
  // What Shopify's login does for a merchant installing the app (the auth hook records it): the app
  // keeps nothing of webhooks for a shop that never installed it. Before the server starts: the
  // SQLite file serves one process at a time.
  {
    Object.assign(process.env, env);
    const { markShopInstalled } = await import("../app/shops/uninstall.server");
    const { default: prisma } = await import("../app/db.server");
    await markShopInstalled(SHOP);
    say(`   ${SHOP} has installed the app`);
    // The merchant opens Settings > Conversion webhooks, pastes the URL shown there into Refersion
    // (Account > Settings > Webhooks) and Refersion's signing secret into the app.
    const { saveConversionSettings } = await import("../app/conversions/receiver.server");
    receiverToken = (await saveConversionSettings(SHOP, { signingSecret: SIGNING_SECRET, graceHours: 24 })).token;
    say("   conversion webhooks connected: Refersion's signing secret saved");
    await prisma.$disconnect();
  }

  step("2. The Refersion stand-in on 127.0.0.1");
  const sandbox = await startRefersionSandbox();
  say(`   listening at ${sandbox.url} (order webhook ${sandbox.webhookUrl})`);
  const { receiverUrl } = await import("../app/conversions/receiver.server");
  const conversionUrl = receiverUrl(`http://127.0.0.1:${appPort}`, receiverToken);
  const fixtureNames = fs.readdirSync(fixturesDir).filter((name) => name.endsWith(".json")).sort();
  // Read as the app reads them: ids past 2^53 as exact digits.
  const { parseOrderJson } = await import("../app/refersion/shopify-order");
  const { orderIdOf } = await import("../app/orders/order-id");
  const orderIds = fixtureNames.map((name) => orderIdOf(parseOrderJson(fs.readFileSync(path.join(fixturesDir, name), "utf8"))) ?? name);
  const expectedOutcome = new Map(orderIds.map((id, index) => [id, CONVERSION_PLANS[index % CONVERSION_PLANS.length].expected]));
  sandbox.setConversionWebhooks({
    url: conversionUrl,
    signingSecret: SIGNING_SECRET,
    plans: Object.fromEntries(orderIds.map((id, index) => [id, CONVERSION_PLANS[index % CONVERSION_PLANS.length].plan])),
  });
  say(`   it sends conversion webhooks to ${conversionUrl.replace(receiverToken, "<token>")}`);

  if (buildIsStale()) {
    step("   building the app (npm run build)");
    execFileSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  }

  step("3. The app's production server, with its delivery worker");
  // Node runs `npm start`'s server directly, with its options, so stopping it stops the server (no npm in between).
  const appServer = path.join(root, "server", "app-server.mjs");
  const app: ChildProcess = spawn(process.execPath, [...startScriptNodeOptions(), appServer, "build/server/index.js"], {
    cwd: root,
    env: { ...env, REFERSION_WEBHOOK_URL: sandbox.webhookUrl, REFERSION_API_URL: sandbox.apiUrl },
    stdio: ["ignore", process.env.DEMO_VERBOSE ? "inherit" : "ignore", "inherit"],
  });
  const appUrl = `http://127.0.0.1:${appPort}`;
  const appExited = new Promise<void>((resolve) => app.once("exit", () => resolve()));
  const stopApp = () => app.exitCode === null && app.kill("SIGTERM");
  process.on("exit", stopApp);
  try {
    await waitFor(
      "the app to listen",
      async () => {
        if (app.exitCode !== null) throw new Fatal(`the app exited with code ${app.exitCode}`);
        return (await fetch(`${appUrl}/`)).ok ? true : undefined;
      },
      60_000,
    );
    say(`   serving at ${appUrl}`);

    const fixtures = fs.readdirSync(fixturesDir).filter((name) => name.endsWith(".json")).sort();
    const send = async (name: string, body: string, secret = API_SECRET) => {
      const post = () => fetch(`${appUrl}/webhooks/orders/create`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Shopify-Hmac-Sha256": sign(body, secret),
          "X-Shopify-Topic": "orders/create",
          "X-Shopify-Shop-Domain": SHOP,
          "X-Shopify-API-Version": "2026-10",
          "X-Shopify-Webhook-Id": crypto.randomUUID(),
        },
        body,
      });
      // Like Shopify, send again when the connection drops (e.g. a keep-alive closed under load).
      const response = await post().catch(() => post());
      say(`   ${String(response.status).padEnd(4)}${name}`);
      return response.status;
    };
    const [first, ...rest] = fixtures;
    const firstBody = fs.readFileSync(path.join(fixturesDir, first), "utf8");

    step("4. An order arrives before the merchant has saved Refersion keys: it waits");
    await send(first, firstBody);
    execFileSync("npx", ["tsx", "scripts/shop-cli.ts", "deliveries", SHOP], { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });

    step(`5. The merchant saves keys for ${SHOP} (and chooses to forward test orders too)`);
    // The secret key goes in through the environment, never on the command line.
    execFileSync(
      "npx",
      ["tsx", "scripts/shop-cli.ts", "configure", SHOP, "--public-key", DEFAULT_SANDBOX_KEYS.publicKey, "--forward-test-orders"],
      { cwd: root, env: { ...env, REFERSION_SECRET_KEY: DEFAULT_SANDBOX_KEYS.secretKey }, stdio: ["ignore", "inherit", "inherit"] },
    );

    step("6. Shopify sends more orders/create webhooks; Refersion answers the first two with 503");
    sandbox.setBehavior({ mode: "fail", status: 503, remaining: 2 }, "order");
    // One order is placed with Buy it now: Shopify's checkout comes from the product form, so the
    // order has no cart token the storefront saw. The checkout pixel, on the Thank you page, reports
    // Refersion's click (here before the webhook, as it usually is); the app credits its affiliate.
    const buyItNow = (text: string) => {
      const order = JSON.parse(text) as Record<string, unknown>;
      return { order, body: JSON.stringify({ ...order, cart_token: null }) };
    };
    const pixelOrder = buyItNow(fs.readFileSync(path.join(fixturesDir, BUY_IT_NOW_FIXTURE), "utf8"));
    const postReport = () =>
      fetch(`${appUrl}/pixel/checkout-completed`, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ shop: SHOP, orderId: String(pixelOrder.order.id), checkoutToken: pixelOrder.order.checkout_token, click: PIXEL_CLICK }),
      });
    // Sent again when the connection drops, as for the webhooks above.
    const pixelReport = await postReport().catch(() => postReport());
    say(`   ${String(pixelReport.status).padEnd(4)}checkout pixel: affiliate ${PIXEL_CLICK.affiliateId}'s click for order ${pixelOrder.order.name} (Buy it now)`);
    for (const name of rest) await send(name, name === BUY_IT_NOW_FIXTURE ? pixelOrder.body : fs.readFileSync(path.join(fixturesDir, name), "utf8"));
    say("   -- Shopify delivers the first order again (a duplicate):");
    await send(`${first} (again)`, firstBody);
    say("   -- a request signed with the wrong secret (forged):");
    const forged = await send("forged order", firstBody, "not-the-app-secret");
    if (forged !== 401) throw new Error(`The forged webhook was answered ${forged}, not 401`);

    step("7. What Refersion received (the worker retried the 503s after a short backoff)");
    // Asked with the shop command, as an operator would, without blocking this process (the
    // Refersion stand-in runs in it).
    const settled = async () => {
      const { stdout } = await promisify(execFile)("npx", ["tsx", "scripts/shop-cli.ts", "deliveries", SHOP, "--json"], { cwd: root, env });
      const listed = JSON.parse(stdout) as { status: string }[];
      // Every order recorded, and none still on its way (due, retrying or waiting for something).
      if (listed.length < fixtures.length) return undefined;
      return listed.some((row) => ["pending", "retrying", "waiting_for_keys", "waiting_for_payment"].includes(row.status)) ? undefined : true;
    };
    await waitFor("every order to be delivered", settled, 60_000);
    await sandbox.conversions.settled();
    for (const request of sandbox.received) {
      const body = request.body as { order_id?: string };
      say(`   POST ${request.path}  public key ${request.publicKey}  -> ${request.status}${request.accepted ? "" : " (refused)"}`);
      if (request.accepted) say(`   ${JSON.stringify(body)}`);
      else say(`   order ${body?.order_id ?? "?"}: will be retried`);
    }

    step("8. Refersion's conversion webhooks (signed with the merchant's signing secret)");
    say("   (some sent twice, some decisions before the pending report they follow, some signed with another secret;");
    say("    the app keeps each conversion's latest state by Refersion's time and refuses the wrongly signed)");
    // The order's name, as the delivery log below shows it (two fixtures from different shops may share one).
    const orderNames = new Map<string, string>();
    for (const name of fixtures) {
      const order = parseOrderJson(fs.readFileSync(path.join(fixturesDir, name), "utf8"));
      const id = orderIdOf(order);
      const orderName = (order as { name?: unknown } | null)?.name;
      if (id && typeof orderName === "string") orderNames.set(id, orderName);
    }
    for (const sent of sandbox.conversions.sent) {
      const order = orderNames.has(sent.orderId) ? `${orderNames.get(sent.orderId)} (${sent.orderId})` : sent.orderId;
      say(`   ${sent.status.padEnd(8)} conversion ${sent.conversionId} for order ${order}, ${sent.signature} signature -> ${sent.answer}`);
    }
    const wronglyAnswered = sandbox.conversions.sent.filter((sent) => sent.answer !== (sent.signature === "valid" ? 200 : 401));
    if (wronglyAnswered.length > 0) throw new Error(`Conversion webhooks answered unexpectedly: ${JSON.stringify(wronglyAnswered)}`);

    step("9. The delivery log");
    // Read once the app has stopped: the SQLite file serves one process.
    stopApp();
    await appExited;
    const { default: prisma } = await (async () => {
      Object.assign(process.env, env);
      return import("../app/db.server");
    })();
    const rows = await prisma.delivery.findMany({ where: { shop: SHOP }, orderBy: { createdAt: "asc" } });
    say(
      renderTable(
        ["order", "total", "status", "attempts", "code", "attribution", "reason"],
        rows.map((row) => [
          row.orderName ?? row.orderId,
          row.totalAmount ? `${row.totalAmount} ${row.currency}` : "",
          row.status,
          row.attempts,
          row.lastStatusCode,
          row.attributionSource ?? "",
          describeReason(row.reasonCode, row.reasonDetail),
        ]),
      ),
    );
    const delivered = rows.filter((row) => row.status === "delivered").length;
    const uniqueOrders = new Set(sandbox.orders().map((request) => (request.body as { order_id: string }).order_id));
    say(
      `\n${bold("Summary")}: ${fixtures.length + 2} webhooks sent, ${rows.length} orders recorded, ${delivered} delivered, ` +
        `${rows.length - delivered} not sent (see reasons), ${sandbox.orders().length} requests accepted by Refersion for ${uniqueOrders.size} orders.`,
    );
    if (uniqueOrders.size !== sandbox.orders().length) throw new Error("An order reached Refersion more than once");
    // Every order is delivered, except those with nothing to credit (a zero total), which are
    // recorded as skipped with that reason and never sent.
    const zeroTotal = fixtures.filter((name) => Number(JSON.parse(fs.readFileSync(path.join(fixturesDir, name), "utf8")).total_price) === 0).length;
    const unexpected = rows.filter((row) => row.status !== "delivered" && !(row.status === "skipped" && row.reasonCode === "zero_value"));
    if (rows.length !== fixtures.length) throw new Error(`${fixtures.length} orders were sent but ${rows.length} recorded`);
    if (unexpected.length > 0) throw new Error(`Not delivered: ${unexpected.map((row) => `${row.orderName ?? row.orderId} (${row.status})`).join(", ")}`);
    if (rows.length - delivered !== zeroTotal) throw new Error(`${rows.length - delivered} orders skipped as zero-value, ${zeroTotal} expected`);
    if (uniqueOrders.size !== delivered) throw new Error(`${delivered} orders delivered but Refersion accepted ${uniqueOrders.size}`);
    // The Buy it now order reached Refersion with the click's affiliate, through the pixel.
    const pixelCredited = sandbox.orders().find((request) => (request.body as { order_id: string }).order_id === String(pixelOrder.order.id));
    if ((pixelCredited?.body as { auto_credit_affiliate_id?: number } | undefined)?.auto_credit_affiliate_id !== Number(PIXEL_CLICK.affiliateId)) {
      throw new Error("The Buy it now order was not credited to the checkout pixel's affiliate");
    }
    if (rows.find((row) => row.orderId === String(pixelOrder.order.id))?.attributionSource !== "pixel") throw new Error("The Buy it now order's attribution is not the pixel");

    step("10. What Refersion made of each order (from its conversion webhooks)");
    const { outcomesOfOrders } = await import("../app/conversions/order-outcomes.server");
    const { affiliateCellOf, loadAttributionView } = await import("../app/admin/conversions-view.server");
    const outcomes = await outcomesOfOrders(SHOP, rows.map((row) => row.orderId), new Date());
    say(
      renderTable(
        ["order", "delivery", "Refersion", "affiliate", "commission"],
        rows.map((row) => {
          const cell = affiliateCellOf(outcomes.get(row.orderId)!);
          return [row.orderName ?? row.orderId, row.status, cell.label, cell.affiliate ?? "", cell.commission ?? ""];
        }),
      ),
    );
    const attribution = await loadAttributionView(SHOP);
    const week = attribution.periods[0];
    say(
      `\n${bold("Home page")}, last ${week.days} days: ${week.forwarded} orders forwarded, ${week.credited} credited by Refersion, ` +
        `attribution rate ${week.rate ?? "—"}; commission ${week.commission.map((entry) => `${entry.label.toLowerCase()} ${entry.amounts.join(" + ") || "—"}`).join(", ")}. ` +
        `${week.waiting} orders wait for Refersion: "no affiliate click" after the 24-hour grace period.`,
    );
    const wrong = rows.filter((row) => row.status === "delivered" && outcomes.get(row.orderId)!.kind !== expectedOutcome.get(row.orderId));
    if (wrong.length > 0) throw new Error(`Outcomes not as planned: ${wrong.map((row) => `${row.orderId} ${outcomes.get(row.orderId)!.kind}`).join(", ")}`);
    const creditedPlanned = rows.filter((row) => row.status === "delivered" && expectedOutcome.get(row.orderId) === "credited").length;
    if (week.credited !== creditedPlanned) throw new Error(`The home page counts ${week.credited} credited orders, ${creditedPlanned} planned`);
    await prisma.$disconnect();
  } finally {
    stopApp();
    await sandbox.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    const cause = error instanceof Error && error.cause ? ` (${error.cause instanceof Error ? error.cause.message : String(error.cause)})` : "";
    console.error(`demo failed: ${error instanceof Error ? error.message : error}${cause}`);
    process.exit(1);
  },
);
