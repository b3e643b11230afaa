/**
 * The order id a Shopify body names (an order's webhook payload, or an order read by "resend past
 * orders"), as the exact digits: the admin GraphQL id first, then a safe integer or digit string.
 * Null when none can be read exactly.
 */
export function orderIdOf(payload: unknown): string | null {
  if (!payload || typeof payload !== "object") return null;
  const record = payload as Record<string, unknown>;
  const gid = typeof record.admin_graphql_api_id === "string" ? /\/Order\/(\d+)$/.exec(record.admin_graphql_api_id) : null;
  if (gid) return gid[1];
  if (typeof record.id === "number" && Number.isSafeInteger(record.id) && record.id > 0) return String(record.id);
  if (typeof record.id === "string" && /^\d+$/.test(record.id)) return record.id;
  return null;
}

/**
 * When the customer placed the order: its `created_at` (an ISO 8601 time with an offset). Null
 * when the body has none that parses; nothing else depends on it but the admin's charts.
 */
export function orderPlacedAtOf(payload: unknown): Date | null {
  if (!payload || typeof payload !== "object") return null;
  const value = (payload as Record<string, unknown>).created_at;
  if (typeof value !== "string") return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
}
