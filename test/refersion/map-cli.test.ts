import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { parseOrderJson } from "../../app/refersion/shopify-order";
import { FIXTURE_DIR } from "./order-fixtures";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function mapOrderCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile("npx", ["tsx", "scripts/map-order.ts", ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const USD_BUYER = path.join(FIXTURE_DIR, "real-aud-shop-usd-presentment-order-1029-2020.json");
const HKD_DRAFT = path.join(FIXTURE_DIR, "real-hkd-draft-order-1071-percentage-code-plus-automatic-2025.json");

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "map-order-"));
});
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function expectOneLineError(run: Run, pattern: RegExp) {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
}

// Each case starts tsx through npx, which takes seconds on a busy machine.
vi.setConfig({ testTimeout: 90_000 });

describe("npm run map (scripts/map-order.ts)", () => {
  it("prints what the app sends for a fixture, indented by 2 spaces", async () => {
    const run = await mapOrderCli([HKD_DRAFT, "--shop", "cli-shop.myshopify.com"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const expected = mapOrderToConversion(parseOrderJson(fs.readFileSync(HKD_DRAFT, "utf8")), {
      shop: "cli-shop.myshopify.com",
      currency: "shop",
      includeCustomer: true,
      autoCreditAffiliate: false,
      cartIdSecret: process.env.SHOPIFY_API_SECRET ?? "",
    });
    if (!expected.ok) throw new Error(expected.error.message);
    expect(run.stdout).toBe(`${JSON.stringify(expected.conversion, null, 2)}\n`);
  });

  it("reports the buyer's currency with --currency presentment and drops the customer with --no-customer", async () => {
    const run = await mapOrderCli([USD_BUYER, "--currency", "presentment", "--no-customer"]);
    expect(run.code).toBe(0);
    const conversion = JSON.parse(run.stdout);
    expect(conversion).toMatchObject({ currency_code: "USD", shipping: 7.71, tax: 3.47, items: [{ price: 34.67, quantity: 1 }] });
    expect(conversion).not.toHaveProperty("customer");
  });

  it("fails with one line on stderr for a missing file", async () => {
    expectOneLineError(await mapOrderCli([path.join(scratch, "missing.json")]), /missing\.json: no such file/);
  });

  it("fails with one line on stderr for a file that is not JSON", async () => {
    const file = path.join(scratch, "broken.json");
    fs.writeFileSync(file, '{"id": 1, "line_items": [');
    expectOneLineError(await mapOrderCli([file]), /broken\.json is not valid JSON/);
  });

  it("fails with one line on stderr for an order that cannot be mapped", async () => {
    const file = path.join(scratch, "bad-money.json");
    const order = JSON.parse(fs.readFileSync(USD_BUYER, "utf8"));
    order.line_items[0].price = "abc";
    fs.writeFileSync(file, JSON.stringify(order));
    expectOneLineError(await mapOrderCli([file]), /cannot be mapped \(invalid_field\): line_items\[0\]\.price should be an amount/);
  });

  it.each([
    ["an unknown flag", [USD_BUYER, "--bogus"], /--bogus/],
    ["an unknown currency", [USD_BUYER, "--currency", "eur"], /--currency must be shop or presentment/],
    ["no file", [], /Expected one order file/],
  ])("fails with one line on stderr for %s", async (_label, args, pattern) => {
    expectOneLineError(await mapOrderCli(args), pattern);
  });
});
