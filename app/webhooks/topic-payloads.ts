import { readScopesUpdate } from "../shops/scopes-update.server";

/**
 * What each topic's body must be before its effect runs. Shopify signs the body only: the route,
 * X-Shopify-Topic and X-Shopify-Shop-Domain are not covered, so a signed body of another topic
 * (or of another shop) replayed here must be recognised from the body itself. The checks are on
 * what distinguishes the topics' payloads, not a full validation: the domain code still reads
 * each field it uses and records what it cannot read.
 */
export type WebhookTopic =
  | "orders/create"
  | "orders/paid"
  | "orders/cancelled"
  | "refunds/create"
  | "app/uninstalled"
  | "app/scopes_update"
  | "customers/data_request"
  | "customers/redact"
  | "shop/redact";

/** Financial states an order is in once paid (a late delivery may carry a later state). */
const PAID_FINANCIAL_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

type Body = Record<string, unknown>;

const isRecord = (value: unknown): value is Body => value !== null && typeof value === "object" && !Array.isArray(value);
const isId = (value: unknown) =>
  (typeof value === "number" && Number.isInteger(value) && value > 0) || (typeof value === "string" && /^\d+$/.test(value));

function orderProblem(body: Body): string | null {
  if (!isId(body.id)) return "not an order: no order id";
  if (!("line_items" in body)) return "not an order: no line_items";
  if ("order_id" in body) return "not an order: it names an order_id (a refund or transaction)";
  return null;
}

function namesShop(value: unknown, shop: string): boolean {
  return typeof value === "string" && value.trim().toLowerCase() === shop;
}

/** Why the body cannot be this topic's, for this shop; null when it fits. */
export function payloadProblem(topic: WebhookTopic, payload: unknown, shop: string): string | null {
  if (topic === "app/scopes_update") {
    const read = readScopesUpdate(payload);
    return read.ok ? null : read.reason;
  }
  if (!isRecord(payload)) return `not a ${topic} body: a JSON object is expected`;
  switch (topic) {
    case "orders/create":
      return orderProblem(payload);
    case "orders/paid": {
      const problem = orderProblem(payload);
      if (problem) return problem;
      const status = payload.financial_status;
      return typeof status === "string" && PAID_FINANCIAL_STATUSES.has(status) ? null : `not a paid order: financial_status is ${JSON.stringify(status ?? null)}`;
    }
    case "orders/cancelled": {
      const problem = orderProblem(payload);
      if (problem) return problem;
      return typeof payload.cancelled_at === "string" && payload.cancelled_at.length > 0 ? null : "not a cancelled order: cancelled_at is not set";
    }
    case "refunds/create":
      if (!isId(payload.id)) return "not a refund: no refund id";
      if (!isId(payload.order_id)) return "not a refund: no order_id";
      return null;
    case "app/uninstalled": {
      // `domain` is the shop's primary domain (possibly its own); myshopify_domain is the one the header names.
      const named = payload.myshopify_domain ?? payload.domain;
      if (named === undefined || named === null) return "not a shop: neither myshopify_domain nor domain";
      return namesShop(named, shop) ? null : "the body names another shop than X-Shopify-Shop-Domain";
    }
    case "customers/data_request":
    case "customers/redact":
    case "shop/redact": {
      if (!namesShop(payload.shop_domain, shop)) {
        return payload.shop_domain === undefined ? `not a ${topic} body: no shop_domain` : "the body names another shop than X-Shopify-Shop-Domain";
      }
      if (topic === "shop/redact") return "customer" in payload ? "not a shop/redact body: it names a customer" : null;
      if (!isRecord(payload.customer)) return `not a ${topic} body: no customer`;
      const orders = topic === "customers/redact" ? "orders_to_redact" : "orders_requested";
      return orders in payload ? null : `not a ${topic} body: no ${orders}`;
    }
  }
}
