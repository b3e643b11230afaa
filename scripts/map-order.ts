/**
 * Prints the Refersion order JSON for one Shopify order file, exactly as the app would send it.
 * Usage: npm run -s map -- ORDER.json [--currency shop|presentment] [--shop SHOP] [--no-customer]
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { mapOrderToConversion } from "../app/refersion/mapping";
import { parseOrderJson } from "../app/refersion/shopify-order";

const DEFAULT_SHOP = "local.myshopify.com";
/** Used only when SHOPIFY_API_SECRET is not set, so derived cart ids differ from the app's. */
const LOCAL_SECRET = "map-order-local-secret";

const HELP = `Usage: npm run -s map -- ORDER.json [options]

Prints the JSON this app would post to Refersion's order webhook for a Shopify order
(the REST Order object of an orders/create webhook), with a 2-space indent.

Options:
  --currency shop|presentment  report amounts in the shop's currency (default) or the buyer's
  --shop SHOP                  the shop's myshopify domain (default ${DEFAULT_SHOP}); part of the
                               cart id derived for orders without a cart token
  --no-customer                leave out the customer's name, email and IP address
  --auto-credit                send the _rfsn_aid note attribute as auto_credit_affiliate_id
  -h, --help                   show this help

Cart ids derived for orders without a cart token are keyed with SHOPIFY_API_SECRET when it is
set (then they match what the app sends); otherwise with a fixed local value, so they will not.
Exits with status 1 and one line on stderr when the file or the order cannot be used.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        currency: { type: "string", default: "shop" },
        shop: { type: "string", default: DEFAULT_SHOP },
        "no-customer": { type: "boolean", default: false },
        "auto-credit": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${oneLine(error)} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return HELP;
  if (positionals.length !== 1) throw new UsageError(`Expected one order file, got ${positionals.length} (see --help)`);
  if (values.currency !== "shop" && values.currency !== "presentment") {
    throw new UsageError(`--currency must be shop or presentment, not "${values.currency}"`);
  }
  if (!values.shop.trim()) throw new UsageError("--shop must not be empty");

  const file = positionals[0];
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read ${file}: ${code === "ENOENT" ? "no such file" : oneLine(error)}`);
  }
  let order: unknown;
  try {
    order = parseOrderJson(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${oneLine(error)}`);
  }
  const result = mapOrderToConversion(order, {
    shop: values.shop.trim(),
    currency: values.currency,
    includeCustomer: !values["no-customer"],
    autoCreditAffiliate: values["auto-credit"],
    cartIdSecret: process.env.SHOPIFY_API_SECRET || LOCAL_SECRET,
  });
  if (!result.ok) throw new UsageError(`${file} cannot be mapped (${result.error.code}): ${result.error.message}`);
  return JSON.stringify(result.conversion, null, 2);
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
}

main(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(`${output}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof UsageError ? oneLine(error) : `map-order failed: ${oneLine(error)}`}\n`);
    process.exitCode = 1;
  },
);
