import type { PrismaClient } from "@prisma/client";
import { configuredKeys, isSealed, openValue, sealValue, sealedKeyId } from "./sealed-values.server";
import { keyIdOf } from "./secret-box.server";

/**
 * The buyer's personal data in the outbox is sealed at rest (AES-256-GCM, the secret box's keys):
 * - in `Delivery.orderPayload` (the stored order) and `Delivery.requestBody` (the JSON for
 *   Refersion), the value of each top-level key below is replaced by one sealed string, so the
 *   rest of the JSON (amounts, items, ids) stays readable for diagnosis;
 * - `Delivery.sourceExcerpt` (a body that could not be read or mapped) is sealed whole, since
 *   what it holds cannot be told.
 * The app's Prisma client seals these columns on every write and opens them on every read
 * (withSealedColumns), so domain code reads and writes plain JSON and no path to the table can
 * forget it. Values written before sealing existed are read as they are.
 */
export const SEALED_JSON_KEYS = [
  "customer",
  "billing_address",
  "shipping_address",
  "email",
  "contact_email",
  "phone",
  "browser_ip",
  "client_details",
  // Not stored for new orders (app/orders/stored-order.ts), but in rows written before.
  "note",
] as const;

const JSON_COLUMNS = ["orderPayload", "requestBody"] as const;
const WHOLE_COLUMNS = ["sourceExcerpt"] as const;

type Json = Record<string, unknown>;

function parseObject(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

/** A JSON column's text with its personal values sealed under `keyHex` (a value sealed already stays). */
export function sealJsonColumn(text: string, keyHex: string): string {
  const record = parseObject(text);
  if (!record) return text;
  let changed = false;
  for (const key of SEALED_JSON_KEYS) {
    const value = record[key];
    if (value === null || value === undefined || isSealed(value)) continue;
    record[key] = sealValue(JSON.stringify(value), keyHex);
    changed = true;
  }
  return changed ? JSON.stringify(record) : text;
}

/** A JSON column's text with its sealed values opened (text without any comes back as it is). */
export function openJsonColumn(text: string, keysHex: string[]): string {
  if (!text.includes('"sealed:')) return text;
  const record = parseObject(text);
  if (!record) return text;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (isSealed(value)) record[key] = JSON.parse(openValue(value, keysHex));
  }
  return JSON.stringify(record);
}

/** Whether a JSON column holds a personal value in plain text or sealed under another key than `keyHex`. */
export function jsonColumnNeedsSealing(text: string | null, keyHex: string): boolean {
  if (text === null) return false;
  const record = parseObject(text);
  if (!record) return false;
  const currentId = keyIdOf(keyHex);
  return SEALED_JSON_KEYS.some((key) => {
    const value = record[key];
    if (value === null || value === undefined) return false;
    return sealedKeyId(value) !== currentId;
  });
}

function sealData(data: unknown, keys: () => string): void {
  if (Array.isArray(data)) {
    for (const entry of data) sealData(entry, keys);
    return;
  }
  if (!data || typeof data !== "object") return;
  const record = data as Json;
  const seal = (column: string, transform: (text: string) => string) => {
    const value = record[column];
    if (typeof value === "string") record[column] = transform(value);
    else if (value && typeof value === "object" && typeof (value as Json).set === "string") {
      record[column] = { ...(value as Json), set: transform((value as Json).set as string) };
    }
  };
  for (const column of JSON_COLUMNS) seal(column, (text) => sealJsonColumn(text, keys()));
  for (const column of WHOLE_COLUMNS) seal(column, (text) => (isSealed(text) ? text : sealValue(text, keys())));
}

function openResult(result: unknown, keys: () => string[]): unknown {
  if (Array.isArray(result)) return result.map((entry) => openResult(entry, keys));
  if (!result || typeof result !== "object" || Object.getPrototypeOf(result) !== Object.prototype) return result;
  const record = result as Json;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === "string") {
      if ((JSON_COLUMNS as readonly string[]).includes(key)) record[key] = openJsonColumn(value, keys());
      else if ((WHOLE_COLUMNS as readonly string[]).includes(key)) record[key] = openValue(value, keys());
    } else if (value && typeof value === "object") {
      record[key] = openResult(value, keys);
    }
  }
  return record;
}

/** The client, sealing the outbox's personal columns on write and opening them on read. */
export function withSealedColumns(client: PrismaClient): PrismaClient {
  const currentKey = () => configuredKeys().current;
  const allKeys = () => configuredKeys().all;
  const extended = client.$extends({
    query: {
      delivery: {
        async $allOperations({ args, query }) {
          const input = args as { data?: unknown; create?: unknown; update?: unknown };
          sealData(input.data, currentKey);
          sealData(input.create, currentKey);
          sealData(input.update, currentKey);
          return openResult(await query(args), allKeys);
        },
      },
    },
  });
  // The extended client answers every call the plain one does; only its static type differs.
  return extended as unknown as PrismaClient;
}
