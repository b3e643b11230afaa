import type { z } from "zod";
import { MappingError } from "./conversion";
import { ShopifyOrderSchema, describeValue, type ShopifyOrder } from "./shopify-order";

/**
 * Reading the webhook body: is it a Shopify order at all, does it have the shape the mapping
 * reads (shopify-order.ts), and which order is it. Problems come back as MappingErrors whose
 * message names the Shopify field, for the delivery log.
 */

/** The order, validated; a body that is not one is refused with the first problem found. */
export function parseOrder(input: unknown): ShopifyOrder {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    const kind =
      input === null || input === undefined
        ? "nothing"
        : Array.isArray(input)
          ? "a list"
          : typeof input === "string"
            ? "text"
            : `a ${typeof input === "bigint" ? "number" : typeof input}`;
    throw new MappingError("not_an_order", `Expected a Shopify order, but got ${kind}`);
  }
  const record = input as Record<string, unknown>;
  if (!("line_items" in record) && !("id" in record) && !("admin_graphql_api_id" in record)) {
    throw new MappingError("not_an_order", "This is not a Shopify order: it has no id and no line_items");
  }
  const parsed = ShopifyOrderSchema.safeParse(input);
  if (!parsed.success) throw new MappingError("invalid_field", describeIssues(parsed.error.issues, input));
  return parsed.data;
}

function describeIssues(issues: z.core.$ZodIssue[], input: unknown): string {
  const [first] = issues;
  if (!first) return "The order does not have the expected shape";
  const path = fieldPath(first.path);
  const value = valueAt(input, first.path);
  const problem =
    value === undefined
      ? "is missing"
      : first.code === "custom"
        ? first.message
        : first.code === "invalid_type"
          ? `should be ${expectedText(first.expected)}, not ${describeValue(value)}`
          : `is not valid (${first.message})`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${path || "The order"} ${problem}${more}`;
}

function expectedText(expected: string): string {
  switch (expected) {
    case "string": return "text";
    case "number": return "a number";
    case "boolean": return "true or false";
    case "array": return "a list";
    case "object": return "an object";
    default: return expected;
  }
}

function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), "");
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** The order id as an exact decimal string: the gid's digits (never rounded), else `id`. */
export function readOrderId(order: ShopifyOrder): string {
  const gid = typeof order.admin_graphql_api_id === "string" ? /^gid:\/\/shopify\/Order\/(\d+)$/.exec(order.admin_graphql_api_id.trim()) : null;
  const fromGid = gid ? gid[1] : null;
  const fromId = exactIdOf(order.id, fromGid !== null);
  if (fromGid && fromId && fromGid !== fromId) {
    throw new MappingError("invalid_field", `id ${fromId} and admin_graphql_api_id ${order.admin_graphql_api_id} name different orders`);
  }
  const orderId = fromGid ?? fromId;
  if (!orderId) throw new MappingError("invalid_field", "The order has no id (both id and admin_graphql_api_id are missing)");
  return orderId;
}

/** `id` as digits; a number too large to be exact is refused unless the gid can stand in for it. */
function exactIdOf(id: ShopifyOrder["id"], hasGid: boolean): string | null {
  if (typeof id === "string") return id;
  if (typeof id !== "number") return null;
  if (Number.isSafeInteger(id)) return String(id);
  if (hasGid) return null;
  throw new MappingError("invalid_field", `id ${id} is too large to be read exactly and the order has no admin_graphql_api_id to read it from`);
}
