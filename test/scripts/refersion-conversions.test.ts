import http from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_SANDBOX_KEYS, startRefersionSandbox, type RefersionSandbox } from "../../scripts/refersion-sandbox";
import { hasValidSignature } from "~/conversions/signature";

/**
 * The stand-in's conversion webhooks, driven over HTTP as the demo and other processes drive it:
 * configured by POST /__sandbox/conversion-webhooks, sent for each order it accepts by plan,
 * signed like Refersion's, listed by GET /__sandbox/conversion-webhooks/sent.
 */
interface Received {
  topic: string | undefined;
  signature: string | undefined;
  body: Buffer;
}

let sandbox: RefersionSandbox;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
const SECRET = "whsec_standin_0123456789";

beforeAll(async () => {
  sandbox = await startRefersionSandbox();
  receiver = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ topic: req.headers["refersion-topic"] as string, signature: req.headers["refersion-signature"] as string, body: Buffer.concat(chunks) });
    res.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/refersion/conversions/token`;
});
afterAll(async () => {
  await sandbox.close();
  await new Promise((resolve) => receiver.close(resolve));
});
beforeEach(() => {
  received.length = 0;
  sandbox.reset();
});

const control = (path: string, body?: unknown) =>
  fetch(`${sandbox.url}/__sandbox${path}`, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

function order(orderId: string, extra: Record<string, unknown> = {}) {
  return fetch(sandbox.webhookUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Refersion-Public-Key": DEFAULT_SANDBOX_KEYS.publicKey, "Refersion-Secret-Key": DEFAULT_SANDBOX_KEYS.secretKey },
    body: JSON.stringify({ cart_id: `c-${orderId}`, order_id: orderId, currency_code: "USD", shipping: 5, tax: 1, discount: 2.5, items: [{ sku: "S", quantity: 2, price: 10, name: "Socks" }], ...extra }),
  });
}

describe("the stand-in's conversion webhooks", () => {
  it("refuses a bad configuration with the reasons", async () => {
    const response = await control("/conversion-webhooks", { url: "not a url", signingSecret: "", plans: { "1": { outcome: "maybe" } } });
    expect(response.status).toBe(400);
    expect((await response.json()).errors).toEqual(expect.arrayContaining([expect.stringMatching(/^url: /), expect.stringMatching(/^plans\.1\.outcome: /)]));
  });

  it("sends each order's plan, signed with the signing secret: credit, approve (also out of order), deny with the reason, none, duplicates, a wrong signature", async () => {
    const configured = await control("/conversion-webhooks", {
      url: receiverUrl,
      signingSecret: SECRET,
      plans: {
        "1": { outcome: "approve", outOfOrder: true },
        "2": { outcome: "deny", deniedReason: "Self-referral", affiliate: 2 },
        "3": { outcome: "credit", duplicates: 2, delayMs: 20 },
        "4": { outcome: "credit", wrongSignature: true },
      },
      defaultPlan: { outcome: "none" },
    });
    expect(configured.status).toBe(200);
    expect(await configured.text()).not.toContain(SECRET);
    for (const orderId of ["1", "2", "3", "4", "5"]) expect((await order(orderId)).status).toBe(200);
    await sandbox.conversions.settled();

    const bodies = received.map((entry) => ({ ...entry, json: JSON.parse(entry.body.toString("utf8")) }));
    const of = (orderId: string) => bodies.filter((entry) => entry.json.order_id === orderId);
    expect(of("1").map((entry) => [entry.topic, entry.json.status])).toEqual([
      ["APPROVED_CONVERSION", "APPROVED"],
      ["NEW_CONVERSION", "PENDING"],
    ]);
    expect(of("1")[0].json.updated > of("1")[1].json.updated).toBe(true);
    expect(of("2").map((entry) => [entry.json.status, entry.json.reason, entry.json.affiliate.code])).toEqual([
      ["PENDING", null, "cy33"],
      ["DENIED", "Self-referral", "cy33"],
    ]);
    expect(of("3")).toHaveLength(3);
    expect(new Set(of("3").map((entry) => entry.body.toString("utf8"))).size).toBe(1);
    expect(of("5")).toEqual([]);
    // Items 2 x 10 less the 2.50 discount; 10% commission.
    expect(of("3")[0].json).toMatchObject({ total: "17.50", commission_total: "1.75", currency: "USD", source: "SHOPIFY" });

    for (const entry of bodies) {
      expect(hasValidSignature(entry.body, entry.signature ?? null, SECRET), `order ${entry.json.order_id}`).toBe(entry.json.order_id !== "4");
    }
    const sent = (await (await control("/conversion-webhooks/sent")).json()) as { orderId: string; signature: string; answer: number }[];
    expect(sent).toHaveLength(bodies.length);
    expect(sent.filter((entry) => entry.signature === "wrong").map((entry) => entry.orderId)).toEqual(["4"]);
    expect(sent.every((entry) => entry.answer === 200)).toBe(true);
  });

  it("credits the affiliate an order names in auto_credit_affiliate_id, as Refersion does, whatever the plan's affiliate", async () => {
    sandbox.setConversionWebhooks({ url: receiverUrl, signingSecret: SECRET, defaultPlan: { outcome: "credit", affiliate: 0 } });
    await order("8", { auto_credit_affiliate_id: 8908370 });
    await order("9");
    await sandbox.conversions.settled();
    const reports = received.map((entry) => JSON.parse(entry.body.toString("utf8")));
    expect(reports.map((report) => [report.order_id, report.affiliate.id, report.affiliate.code])).toEqual([
      ["8", 8908370, "bo22"],
      ["9", 8908369, "ada1"],
    ]);
  });

  it("after a cancellation it accepts, reports the credited conversion denied, later than before", async () => {
    sandbox.setConversionWebhooks({ url: receiverUrl, signingSecret: SECRET, defaultPlan: { outcome: "approve" } });
    await order("7");
    await sandbox.conversions.settled();
    const cancel = await fetch(`${sandbox.apiUrl}/conversion/cancel`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Refersion-Public-Key": DEFAULT_SANDBOX_KEYS.publicKey, "Refersion-Secret-Key": DEFAULT_SANDBOX_KEYS.secretKey },
      body: JSON.stringify({ order_id: "7", items: [{ sku: "S", quantity: 2, price: 10 }] }),
    });
    expect(cancel.status).toBe(200);
    await sandbox.conversions.settled();
    const reports = received.map((entry) => JSON.parse(entry.body.toString("utf8")));
    expect(reports.map((report) => report.status)).toEqual(["PENDING", "APPROVED", "DENIED"]);
    expect(reports[2]).toMatchObject({ id: reports[1].id, reason: "Order cancelled" });
    expect(reports[2].updated > reports[1].updated).toBe(true);
  });
});
