import {
  DEFAULT_SANDBOX_KEYS,
  startRefersionSandbox,
  type ReceivedRequest,
  type RefersionSandbox,
  type SandboxKeys,
} from "../../scripts/refersion-sandbox";
import { createRefersionClient, RefersionError } from "../../app/refersion/client.server";
import type { RefersionConversion } from "../../app/refersion/conversion";

const KEYS: SandboxKeys = { publicKey: "pub_test_sandbox_a1b2c3", secretKey: "sec_test_sandbox_z9y8x7w6" };
const OTHER_KEYS: SandboxKeys = { publicKey: "pub_other_account_1", secretKey: "sec_other_account_secret_1" };

function validOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cart_id: "DDXqfBngTWuX8N8Asqr2mY3RkmHCXdM7Vz6mdHkjwrEnN5zyRY",
    order_id: "20150401102883",
    shipping: 9.99,
    tax: 0.57,
    discount: 2.25,
    discount_code: "HOLIDAY1",
    currency_code: "USD",
    customer: { first_name: "John", last_name: "Doe", email: "john@example.com", ip_address: "" },
    items: [
      { price: 5.5, quantity: 2, sku: "PROD_A", name: "Product A" },
      { price: 10, quantity: 1, sku: "", name: "Product B" },
    ],
    ...overrides,
  };
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/** Every response text seen in this file, to prove no secret ever comes back. */
const responseTexts: string[] = [];

async function post(
  url: string,
  body: unknown,
  options: { keys?: Partial<SandboxKeys> | null; headers?: Record<string, string>; raw?: string; signal?: AbortSignal } = {},
): Promise<Answer> {
  const keys = options.keys === undefined ? KEYS : options.keys;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (keys?.publicKey !== undefined) headers["Refersion-Public-Key"] = keys.publicKey;
  if (keys?.secretKey !== undefined) headers["Refersion-Secret-Key"] = keys.secretKey;
  Object.assign(headers, options.headers);
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: options.raw ?? JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  responseTexts.push(text, JSON.stringify([...response.headers]));
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: `text` says what came back
  }
  return { status: response.status, headers: response.headers, text, json };
}

async function control<T = Record<string, unknown>>(sandbox: RefersionSandbox, method: "GET" | "POST", path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  responseTexts.push(text);
  return { status: response.status, json: JSON.parse(text) as T };
}

describe("Refersion sandbox", () => {
  let sandbox: RefersionSandbox;
  const logLines: string[] = [];

  beforeAll(async () => {
    sandbox = await startRefersionSandbox({ keys: [KEYS, OTHER_KEYS], log: (line) => logLines.push(line) });
  });
  afterEach(() => sandbox.reset());
  afterAll(async () => {
    // Nothing any test did may have leaked a secret key.
    const everything = [...responseTexts, ...logLines].join("\n");
    for (const secret of [KEYS.secretKey, OTHER_KEYS.secretKey, "sec_added_over_http_42"]) {
      expect(everything).not.toContain(secret);
    }
    await sandbox.close();
  });

  it("listens on 127.0.0.1 and names its URLs", () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.webhookUrl).toBe(`${sandbox.url}/tracker/orders/paid`);
    expect(sandbox.apiUrl).toBe(`${sandbox.url}/v2`);
  });

  describe("POST /tracker/orders/paid", () => {
    it("accepts and records a valid order (the seed's example)", async () => {
      const order = validOrder();
      const answer = await post(sandbox.webhookUrl, order);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ status: "ok", order_id: "20150401102883" });

      expect(sandbox.orders()).toHaveLength(1);
      const [entry] = sandbox.received;
      expect(entry).toMatchObject({
        id: expect.any(Number),
        path: "/tracker/orders/paid",
        endpoint: "order",
        publicKey: KEYS.publicKey,
        accepted: true,
        status: 200,
        problems: [],
        orderId: "20150401102883",
        mode: "ok",
        body: order,
      });
      expect(new Date(entry.at).toString()).not.toBe("Invalid Date");
      expect(logLines.at(-1)).toContain('order 200 order_id="20150401102883"');
    });

    it("accepts the minimal order and every optional field", async () => {
      const minimal = { cart_id: "c", order_id: "1", currency_code: "EUR", items: [{ sku: "", quantity: 1, price: 0 }] };
      expect((await post(sandbox.webhookUrl, minimal)).status).toBe(200);
      const full = validOrder({
        order_id: "2",
        is_subscription: true,
        subscription_id: "sub_1",
        auto_credit_affiliate_id: 8908369,
        cart_id: "x".repeat(255),
      });
      expect((await post(sandbox.webhookUrl, full)).status).toBe(200);
      expect(sandbox.orders().map((entry) => entry.orderId)).toEqual(["1", "2"]);
    });

    it.each([
      ["no keys", null, "missing header Refersion-Public-Key"],
      ["no secret key", { publicKey: KEYS.publicKey }, "missing header Refersion-Secret-Key"],
      ["no public key", { secretKey: KEYS.secretKey }, "missing header Refersion-Public-Key"],
      ["an unknown public key", { publicKey: "pub_nobody", secretKey: KEYS.secretKey }, "unknown public key"],
      ["a wrong secret key", { publicKey: KEYS.publicKey, secretKey: "sec_wrong_value" }, "secret key does not match the public key"],
      ["another account's secret", { publicKey: KEYS.publicKey, secretKey: OTHER_KEYS.secretKey }, "secret key does not match the public key"],
    ])("answers 401 to %s", async (_label, keys, problem) => {
      const answer = await post(sandbox.webhookUrl, validOrder(), { keys });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: "Invalid API credentials (error 2)." });
      expect(sandbox.received[0]).toMatchObject({ accepted: false, status: 401, problems: [problem] });
      expect(sandbox.orders()).toHaveLength(0);
    });

    it.each([
      ["a string amount", { shipping: "9.99" }, "shipping: must be a JSON number (no strings, no currency symbols)"],
      ["a currency symbol in a price", { items: [{ sku: "A", quantity: 1, price: "$5.50" }] }, "items[0].price: must be a JSON number"],
      ["a negative discount", { discount: -2.25 }, "discount: must be >= 0"],
      ["a missing cart_id", { cart_id: undefined }, "cart_id: is required"],
      ["a blank cart_id", { cart_id: "   " }, "cart_id: must not be empty or blank"],
      ["a cart_id over 255 characters", { cart_id: "x".repeat(256) }, "cart_id: must be at most 255 characters"],
      ["a numeric order_id", { order_id: 1001 }, "order_id: must be a string"],
      ["an unknown top-level key", { total_price: 59.45 }, "total_price: unknown field"],
      ["empty items", { items: [] }, "items: must not be empty"],
      ["a lowercase currency", { currency_code: "usd" }, "currency_code: must be three uppercase letters"],
      ["a zero quantity", { items: [{ sku: "A", quantity: 0, price: 1 }] }, "items[0].quantity: must be > 0"],
      ["an item without sku", { items: [{ quantity: 1, price: 1 }] }, "items[0].sku: is required"],
      ["a fractional affiliate id", { auto_credit_affiliate_id: 1.5 }, "auto_credit_affiliate_id: must be an integer"],
      ["an affiliate id as a string", { auto_credit_affiliate_id: "8908369" }, "auto_credit_affiliate_id: must be a JSON number"],
      ["is_subscription as a string", { is_subscription: "true" }, "is_subscription: must be a boolean"],
      ["a numeric customer email", { customer: { email: 42 } }, "customer.email: must be a string"],
    ])("answers 422 to %s", async (_label, overrides, problem) => {
      const body = JSON.parse(JSON.stringify(validOrder(overrides))); // drops undefined keys
      const answer = await post(sandbox.webhookUrl, body);
      expect(answer.status).toBe(422);
      expect(answer.json.errors).toEqual(expect.arrayContaining([expect.stringContaining(problem)]));
      const [entry] = sandbox.received;
      expect(entry.accepted).toBe(false);
      expect(entry.status).toBe(422);
      expect(entry.problems).toEqual(answer.json.errors);
      expect(entry.body).toEqual(body);
      expect(sandbox.orders()).toHaveLength(0);
    });

    it("lists every problem of a body at once", async () => {
      const answer = await post(sandbox.webhookUrl, { order_id: "", currency_code: "US", items: [], extra: 1 });
      expect(answer.status).toBe(422);
      expect(answer.json.errors).toEqual(
        expect.arrayContaining([
          "cart_id: is required",
          "order_id: must not be empty or blank",
          expect.stringMatching(/^currency_code:/),
          "items: must not be empty",
          "extra: unknown field",
        ]),
      );
    });

    it("rejects a non-object body, broken JSON and a wrong Content-Type", async () => {
      expect((await post(sandbox.webhookUrl, [validOrder()])).status).toBe(422);
      const broken = await post(sandbox.webhookUrl, null, { raw: '{"cart_id": ' });
      expect(broken.status).toBe(400);
      expect(sandbox.received[1].problems).toEqual(["body is not valid JSON"]);
      const form = await post(sandbox.webhookUrl, validOrder(), { headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      expect(form.status).toBe(415);
      // A charset parameter is fine.
      expect((await post(sandbox.webhookUrl, validOrder(), { headers: { "Content-Type": "application/json; charset=utf-8" } })).status).toBe(200);
    });

    it("answers 405 to other methods and 404 to unknown paths, and records both", async () => {
      const get = await fetch(sandbox.webhookUrl);
      await get.text();
      expect(get.status).toBe(405);
      expect((await post(`${sandbox.url}/woocommerce/orders/paid`, validOrder())).status).toBe(404);
      expect(sandbox.received.map((entry) => [entry.endpoint, entry.status])).toEqual([
        ["order", 405],
        ["unknown", 404],
      ]);
    });
  });

  describe("POST /v2/affiliate/list", () => {
    it("answers 200 with results for valid keys", async () => {
      const answer = await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" });
      expect(answer.status).toBe(200);
      expect(answer.json.results).toHaveLength(1);
      expect(answer.json.total).toBeGreaterThanOrEqual(1);
      expect(sandbox.received[0]).toMatchObject({ endpoint: "affiliate_list", accepted: true, status: 200 });
    });

    it("answers 401 to invalid keys", async () => {
      const answer = await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" }, { keys: { ...KEYS, secretKey: "sec_nope_nope" } });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: "Invalid API credentials (error 2)." });
    });

    it("answers 403 when API access is not on the plan, while orders still go through", async () => {
      sandbox.setBehavior({ mode: "plan_unavailable" });
      const answer = await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" });
      expect(answer.status).toBe(403);
      expect(answer.json).toEqual({ error: "API access is not available on your plan" });
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(200);
    });
  });

  describe("POST /v2/conversion/cancel", () => {
    const cancel = (orderId: string, keys: SandboxKeys = KEYS) =>
      post(`${sandbox.apiUrl}/conversion/cancel`, { order_id: orderId, items: [{ sku: "PROD_A", quantity: 1, price: 5.5 }] }, { keys });

    it("refuses an order it never accepted", async () => {
      const answer = await cancel("never-sent");
      expect(answer.status).toBe(422);
      expect(answer.json).toEqual({ error: "Invalid order ID (error 5)." });
    });

    it("cancels an accepted order, only for the account that sent it", async () => {
      expect((await post(sandbox.webhookUrl, validOrder({ order_id: "A-1" }))).status).toBe(200);
      const answer = await cancel("A-1");
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ conversion_id: expect.any(Number) });
      expect((await cancel("A-1", OTHER_KEYS)).status).toBe(422);
    });

    it("does not count a rejected order as known", async () => {
      expect((await post(sandbox.webhookUrl, validOrder({ order_id: "B-1", items: [] }))).status).toBe(422);
      expect((await cancel("B-1")).status).toBe(422);
    });

    it("validates the cancel body", async () => {
      const answer = await post(`${sandbox.apiUrl}/conversion/cancel`, { order_id: "A-1", items: [{ sku: "A", quantity: "1", price: 1 }] });
      expect(answer.status).toBe(422);
      expect(answer.json.errors).toEqual(["items[0].quantity: must be a JSON number"]);
    });
  });

  describe("modes", () => {
    it("fail answers 503 with a JSON error by default, or the given status", async () => {
      sandbox.setBehavior({ mode: "fail" });
      const answer = await post(sandbox.webhookUrl, validOrder());
      expect(answer.status).toBe(503);
      expect(answer.json.error).toEqual(expect.any(String));
      sandbox.setBehavior({ mode: "fail", status: 500 });
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(500);
      expect(sandbox.orders()).toHaveLength(0);
      expect(sandbox.received.map((entry) => entry.mode)).toEqual(["fail", "fail"]);
    });

    it("slow waits delayMs, then answers normally", async () => {
      sandbox.setBehavior({ mode: "slow", delayMs: 150 });
      const started = performance.now();
      const answer = await post(sandbox.webhookUrl, validOrder());
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(answer.status).toBe(200);
      expect(sandbox.orders()).toHaveLength(1);
      expect(sandbox.received[0].settled).toBe(true);
    });

    it("slow, to a client that left before the delay ended: settled, neither answered nor accepted", async () => {
      sandbox.setBehavior({ mode: "slow", delayMs: 300 });
      const gaveUp = new AbortController();
      const leaving = post(sandbox.webhookUrl, validOrder(), { signal: gaveUp.signal }).catch(() => "left");
      await sandbox.waitFor((received) => received.length === 1);
      expect(sandbox.received[0].settled).toBe(false);
      gaveUp.abort();
      expect(await leaving).toBe("left");
      await sandbox.waitFor((received) => received[0].settled, 5_000);
      expect(sandbox.received[0]).toMatchObject({ mode: "slow", status: 0, accepted: false, settled: true });
      expect(sandbox.orders()).toHaveLength(0);
    });

    it("reject answers 401 even to valid keys", async () => {
      sandbox.setBehavior({ mode: "reject" });
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(401);
      expect((await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" })).status).toBe(401);
    });

    it("flaky fails at about failRate, the same way on every run", async () => {
      const run = async () => {
        sandbox.setBehavior({ mode: "flaky", failRate: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 40; i++) statuses.push((await post(sandbox.webhookUrl, validOrder({ order_id: `F-${i}` }))).status);
        return statuses;
      };
      const first = await run();
      const second = await run();
      expect(second).toEqual(first);
      const failures = first.filter((status) => status === 503).length;
      expect(failures).toBeGreaterThan(5);
      expect(failures).toBeLessThan(35);
      expect(first.every((status) => status === 200 || status === 503)).toBe(true);
      sandbox.setBehavior({ mode: "flaky", failRate: 0.5, seed: 7 });
      const other: number[] = [];
      for (let i = 0; i < 40; i++) other.push((await post(sandbox.webhookUrl, validOrder())).status);
      expect(other).not.toEqual(first);
    });

    it("error_body answers 200 with an error in the body", async () => {
      sandbox.setBehavior({ mode: "error_body" });
      const answer = await post(sandbox.webhookUrl, validOrder());
      expect(answer.status).toBe(200);
      expect(answer.json.error).toEqual(expect.any(String));
      expect(sandbox.orders()).toHaveLength(0);
    });

    it("rate_limit answers 429 with Retry-After", async () => {
      sandbox.setBehavior({ mode: "rate_limit", retryAfterSeconds: 7 });
      const answer = await post(sandbox.webhookUrl, validOrder());
      expect(answer.status).toBe(429);
      expect(answer.headers.get("retry-after")).toBe("7");
    });

    it("timeout never answers", async () => {
      sandbox.setBehavior({ mode: "timeout" });
      await expect(post(sandbox.webhookUrl, validOrder(), { signal: AbortSignal.timeout(200) })).rejects.toThrow();
      expect(sandbox.received[0]).toMatchObject({ mode: "timeout", status: 0, accepted: false });
    });

    it("remaining applies a behavior to the next N requests, then returns to ok", async () => {
      sandbox.setBehavior({ mode: "fail", remaining: 2 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(sandbox.webhookUrl, validOrder())).status);
      expect(statuses).toEqual([503, 503, 200]);
      expect(sandbox.behavior().order).toEqual({ mode: "ok" });
    });

    it("remaining counts requests to either endpoint when set for all", async () => {
      sandbox.setBehavior({ mode: "reject", remaining: 2 });
      expect((await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" })).status).toBe(401);
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(401);
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(200);
    });

    it("a behavior can target only orders or only the API", async () => {
      sandbox.setBehavior({ mode: "fail" }, "api");
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(200);
      expect((await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" })).status).toBe(503);
      sandbox.setBehavior({ mode: "fail", status: 502 }, "order");
      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(502);
      expect((await post(`${sandbox.apiUrl}/affiliate/list`, { limit: "1" })).status).toBe(503);
    });

    it("refuses an invalid behavior", () => {
      expect(() => sandbox.setBehavior({ mode: "explode" as never })).toThrow(/Invalid sandbox behavior/);
      expect(() => sandbox.setBehavior({ mode: "flaky", failRate: 2 })).toThrow(/failRate/);
    });
  });

  describe("HTTP control", () => {
    it("sets a behavior, lists requests and resets", async () => {
      const set = await control<{ behavior: { order: unknown; api: unknown } }>(sandbox, "POST", "/behavior", { mode: "fail", status: 500, remaining: 1, endpoint: "order" });
      expect(set.status).toBe(200);
      expect(set.json.behavior.order).toEqual({ mode: "fail", status: 500, remaining: 1 });
      expect(set.json.behavior.api).toEqual({ mode: "ok" });

      expect((await post(sandbox.webhookUrl, validOrder())).status).toBe(500);
      expect((await post(sandbox.webhookUrl, validOrder({ order_id: "after" }))).status).toBe(200);

      const listed = await control<ReceivedRequest[]>(sandbox, "GET", "/requests");
      expect(listed.json.map((entry) => entry.status)).toEqual([500, 200]);
      const since = await control<ReceivedRequest[]>(sandbox, "GET", `/requests?since=${listed.json[0].id}`);
      expect(since.json.map((entry) => entry.orderId)).toEqual(["after"]);
      expect((await control<ReceivedRequest[]>(sandbox, "GET", "/orders")).json).toHaveLength(1);
      expect((await control(sandbox, "GET", "/stats")).json).toMatchObject({ total: 2, accepted: 1, byStatus: { "200": 1, "500": 1 } });

      expect((await control(sandbox, "POST", "/reset")).status).toBe(200);
      expect(sandbox.received).toHaveLength(0);
      expect((await control<ReceivedRequest[]>(sandbox, "GET", "/requests")).json).toEqual([]);
    });

    it("adds a key pair without echoing the secret", async () => {
      const added = { publicKey: "pub_added_over_http", secretKey: "sec_added_over_http_42" };
      expect((await post(sandbox.webhookUrl, validOrder(), { keys: added })).status).toBe(401);
      const answer = await control(sandbox, "POST", "/keys", added);
      expect(answer).toEqual({ status: 200, json: { ok: true, publicKey: "pub_added_over_http" } });
      expect((await post(sandbox.webhookUrl, validOrder(), { keys: added })).status).toBe(200);
    });

    it("refuses invalid control bodies", async () => {
      expect((await control(sandbox, "POST", "/behavior", { mode: "nope" })).status).toBe(400);
      expect((await control(sandbox, "POST", "/keys", { publicKey: "p" })).status).toBe(400);
      expect((await control(sandbox, "GET", "/nothing")).status).toBe(404);
      expect(sandbox.received).toHaveLength(0); // control requests are not Refersion requests
    });
  });

  describe("secret keys", () => {
    it("never stores, answers or logs a secret key, even one echoed in the body", async () => {
      await post(sandbox.webhookUrl, validOrder({ discount_code: KEYS.secretKey }));
      await post(sandbox.webhookUrl, validOrder({ [KEYS.secretKey]: 1 }));
      await post(sandbox.webhookUrl, validOrder(), { keys: { publicKey: KEYS.secretKey, secretKey: KEYS.secretKey } });
      await post(sandbox.webhookUrl, validOrder({ order_id: "sec_wrong_but_secret" }), {
        keys: { publicKey: KEYS.publicKey, secretKey: "sec_wrong_but_secret" },
      });
      const recorded = JSON.stringify(sandbox.received);
      expect(recorded).not.toContain(KEYS.secretKey);
      expect(recorded).not.toContain("sec_wrong_but_secret");
      expect(recorded).toContain("[redacted]");
      const listed = await fetch(`${sandbox.url}/__sandbox/requests`).then((response) => response.text());
      expect(listed).not.toContain(KEYS.secretKey);
      expect(logLines.join("\n")).not.toContain("sec_wrong_but_secret");
    });
  });

  it("drains hundreds of orders quickly over keep-alive connections", async () => {
    const total = 400;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < total) {
        const id = next++;
        const answer = await post(sandbox.webhookUrl, validOrder({ order_id: `bulk-${id}` }));
        expect(answer.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const elapsed = performance.now() - started;
    expect(sandbox.orders()).toHaveLength(total);
    expect(new Set(sandbox.orders().map((entry) => entry.orderId)).size).toBe(total);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe("Refersion sandbox lifecycle", () => {
  it("uses the documented default keys when given none, and can keep counts only", async () => {
    const sandbox = await startRefersionSandbox({ recordBodies: false });
    try {
      const answer = await post(sandbox.webhookUrl, validOrder(), { keys: DEFAULT_SANDBOX_KEYS });
      expect(answer.status).toBe(200);
      expect(sandbox.received[0]).toMatchObject({ accepted: true, orderId: "20150401102883", body: null });
      expect(sandbox.stats()).toMatchObject({ total: 1, accepted: 1, byEndpoint: { order: 1 } });
    } finally {
      await sandbox.close();
    }
  });

  it("close() ends idle keep-alive and hung connections promptly", async () => {
    const sandbox = await startRefersionSandbox({ keys: [KEYS] });
    await post(sandbox.webhookUrl, validOrder()); // leaves an idle keep-alive connection
    sandbox.setBehavior({ mode: "timeout" });
    const hung = post(sandbox.webhookUrl, validOrder()).then(
      () => "answered",
      () => "ended",
    );
    await sandbox.waitFor((received) => received.length === 2);
    sandbox.setBehavior({ mode: "slow", delayMs: 60_000 });
    const slow = post(sandbox.webhookUrl, validOrder()).then(
      () => "answered",
      () => "ended",
    );
    await sandbox.waitFor((received) => received.length === 3);
    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await hung).toBe("ended");
    expect(await slow).toBe("ended");
  });

  it("waitFor rejects when the condition is not met in time", async () => {
    const sandbox = await startRefersionSandbox();
    try {
      await expect(sandbox.waitFor((received) => received.length > 0, 50)).rejects.toThrow(/within 50 ms/);
    } finally {
      await sandbox.close();
    }
  });
});

describe("the app's Refersion client against the sandbox", () => {
  let sandbox: RefersionSandbox;
  const conversion: RefersionConversion = {
    cart_id: "c_9f8e7d6c5b4a",
    order_id: "5550001",
    currency_code: "USD",
    shipping: 4.5,
    tax: 1.2,
    discount: 0,
    items: [{ sku: "SKU-1", quantity: 2, price: 12.5, name: "Mug" }],
  };
  const client = (timeoutMs = 2_000, keys: SandboxKeys = KEYS) =>
    createRefersionClient({ webhookUrl: sandbox.webhookUrl, apiUrl: sandbox.apiUrl, keys, timeoutMs });

  async function failureOf(promise: Promise<unknown>): Promise<RefersionError> {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(RefersionError);
      return error as RefersionError;
    }
    throw new Error("expected the call to fail");
  }

  beforeAll(async () => {
    sandbox = await startRefersionSandbox({ keys: [KEYS] });
  });
  afterEach(() => sandbox.reset());
  afterAll(async () => {
    await sandbox.close();
  });

  it("delivers an order, checks keys and cancels", async () => {
    const reply = await client().sendOrder(conversion);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: "ok", order_id: "5550001" });
    expect(sandbox.orders()[0].body).toEqual(conversion);
    expect((await client().listAffiliates()).status).toBe(200);
    const cancelled = await client().cancelConversion({ order_id: "5550001", items: [{ sku: "SKU-1", quantity: 1, price: 12.5 }] });
    expect(cancelled.body).toEqual({ conversion_id: expect.any(Number) });
  });

  it("401 is not retryable", async () => {
    const error = await failureOf(client(2_000, { ...KEYS, secretKey: "sec_wrong_for_client" }).sendOrder(conversion));
    expect(error).toMatchObject({ kind: "http", status: 401, retryable: false });
    expect(error.excerpt).toContain("Invalid API credentials");
  });

  it("503 is retryable", async () => {
    sandbox.setBehavior({ mode: "fail" });
    const error = await failureOf(client().sendOrder(conversion));
    expect(error).toMatchObject({ kind: "http", status: 503, retryable: true });
  });

  it("429 carries retryAfterMs", async () => {
    sandbox.setBehavior({ mode: "rate_limit", retryAfterSeconds: 3 });
    const error = await failureOf(client().sendOrder(conversion));
    expect(error).toMatchObject({ kind: "http", status: 429, retryable: true, retryAfterMs: 3_000 });
  });

  it("no answer becomes a timeout", async () => {
    sandbox.setBehavior({ mode: "timeout" });
    const error = await failureOf(client(200).sendOrder(conversion));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
  });

  it("an error in a 200 body is not a success", async () => {
    sandbox.setBehavior({ mode: "error_body" });
    const error = await failureOf(client().sendOrder(conversion));
    expect(error).toMatchObject({ kind: "error_body", status: 200 });
  });

  it("a 403 on the key check says the plan lacks API access", async () => {
    sandbox.setBehavior({ mode: "plan_unavailable" }, "api");
    const error = await failureOf(client().listAffiliates());
    expect(error).toMatchObject({ kind: "http", status: 403, retryable: false });
    expect(error.excerpt).toContain("not available on your plan");
  });
});
