/**
 * Shopify-signed orders/create webhooks made from the real order fixtures, each a distinct order.
 *
 * Every fixture is compacted (Shopify sends JSON without indentation) with its exact number
 * text kept, and its top-level `id` and `admin_graphql_api_id` are replaced per request, so the
 * app records one outbox row per request instead of treating repeats as duplicates. Fixtures
 * from before admin_graphql_api_id existed get one, as every webhook carries it today.
 */
import fs from "node:fs";
import path from "node:path";
import { shopifyWebhookHeaders } from "../shopify-webhooks";

/** The real order payloads kept in the repository (test/fixtures/orders/SOURCES.md). */
export const FIXTURES_DIR = path.resolve(import.meta.dirname, "..", "..", "test", "fixtures", "orders");
export const BENCH_SHOP = "bench-store.myshopify.com";
export const WEBHOOK_PATH = "/webhooks/orders/create";

const ID_MARK = "\u0000ORDER_ID\u0000";

export interface OrderTemplate {
  name: string;
  /** The compact body split around the places the order id goes. */
  parts: string[];
}

/** Removes whitespace outside strings; numbers keep their exact text (no JSON.parse round trip). */
export function compactJson(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === "\\") out += text[++i];
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char !== " " && char !== "\n" && char !== "\r" && char !== "\t") {
      out += char;
    }
  }
  return out;
}

/** A fixture as a template; the fixtures are pretty-printed with a 2-space indent (SOURCES.md). */
export function orderTemplate(name: string, text: string): OrderTemplate {
  const topLevelId = /^ {2}"id": *\d+(,?)$/m;
  if (!topLevelId.test(text)) throw new Error(`${name}: no top-level "id"`);
  const gid = /^ {2}"admin_graphql_api_id": *"gid:\/\/shopify\/Order\/\d+"/m;
  let marked = text.replace(topLevelId, (_line, comma: string) => `  "id": ${ID_MARK}${comma}`);
  marked = gid.test(marked)
    ? marked.replace(gid, `  "admin_graphql_api_id": "gid://shopify/Order/${ID_MARK}"`)
    : marked.replace(`"id": ${ID_MARK}`, `"id": ${ID_MARK}, "admin_graphql_api_id": "gid://shopify/Order/${ID_MARK}"`);
  // The marker holds no whitespace, so compacting keeps it intact.
  return { name, parts: compactJson(marked).split(ID_MARK) };
}

export function loadOrderTemplates(dir = FIXTURES_DIR): OrderTemplate[] {
  const names = fs.readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
  if (names.length === 0) throw new Error(`No order fixtures in ${dir}`);
  return names.map((name) => orderTemplate(name, fs.readFileSync(path.join(dir, name), "utf8")));
}

export interface SignedWebhook {
  orderId: number;
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Hands out signed webhooks for distinct orders, cycling through the fixtures. Order ids start
 * at `firstId` (a safe integer), so separate runs against one database never collide.
 */
export function createWebhookSource(options: { secret: string; shop?: string; templates?: OrderTemplate[]; firstId: number }) {
  const templates = options.templates ?? loadOrderTemplates();
  const shop = options.shop ?? BENCH_SHOP;
  let next = options.firstId;
  let sent = 0;
  return {
    templates,
    next(): SignedWebhook {
      const orderId = next++;
      const template = templates[sent++ % templates.length];
      const body = Buffer.from(template.parts.join(String(orderId)), "utf8");
      return {
        orderId,
        body,
        headers: shopifyWebhookHeaders({ topic: "orders/create", shop, body, secret: options.secret }),
      };
    },
    get sent() {
      return sent;
    },
  };
}
