/**
 * Refersion's merchant webhooks for conversions, as the stand-in (scripts/refersion-sandbox.ts)
 * sends them after it accepts an order: the body Refersion documents (New Conversion, Conversion
 * Approved, Conversion Denied), signed with the merchant's signing secret
 * (`Refersion-Signature` = base64 HMAC-SHA256 of the raw body), posted to the URL the merchant
 * pasted into Refersion. What happens to each order is a plan: credit it (pending), approve or
 * deny it after crediting, or nothing (no affiliate click); with a delay, duplicates, the later
 * status sent first, or a wrong signature.
 */
import { z } from "zod";
import { signConversionBody } from "../app/conversions/signature";
import type { OrderJson } from "../app/refersion/order-json";

export const CONVERSION_OUTCOMES = ["credit", "approve", "deny", "none"] as const;

export const ConversionPlanSchema = z.strictObject({
  outcome: z.enum(CONVERSION_OUTCOMES),
  /** Which of the stand-in's affiliates is credited (0-2), unless the order names one in auto_credit_affiliate_id. */
  affiliate: z.number().int().min(0).max(2).optional(),
  /** Before the first webhook, in ms (default 0). */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** Extra copies of every webhook (Refersion retrying, say). */
  duplicates: z.number().int().min(0).max(10).optional(),
  /** approve/deny: the decision is sent before the pending report it follows. */
  outOfOrder: z.boolean().optional(),
  /** Signed with another secret: the app must refuse every webhook of this order. */
  wrongSignature: z.boolean().optional(),
  /** deny: Refersion's reason. */
  deniedReason: z.string().max(200).optional(),
});

export type ConversionPlan = z.infer<typeof ConversionPlanSchema>;

export const ConversionWebhooksSchema = z.strictObject({
  url: z.url(),
  signingSecret: z.string().min(1),
  /** Plans by Shopify order id; others get `defaultPlan` (default: none). */
  plans: z.record(z.string(), ConversionPlanSchema).optional(),
  defaultPlan: ConversionPlanSchema.optional(),
  /** The affiliate's share of the order's item total (default 0.1). */
  commissionRate: z.number().min(0).max(1).optional(),
});

export type ConversionWebhooksConfig = z.infer<typeof ConversionWebhooksSchema>;

export const CONVERSION_AFFILIATES = [
  { id: 8908369, code: "ada1", first_name: "Ada", last_name: "Sandbox", email: "ada@affiliates.invalid" },
  { id: 8908370, code: "bo22", first_name: "Bo", last_name: "Sandbox", email: "bo@affiliates.invalid" },
  { id: 8908371, code: "cy33", first_name: "Cy", last_name: "Sandbox", email: "cy@affiliates.invalid" },
] as const;

export type ConversionWebhookStatus = "PENDING" | "APPROVED" | "DENIED";

const TOPICS: Record<ConversionWebhookStatus, string> = {
  PENDING: "NEW_CONVERSION",
  APPROVED: "APPROVED_CONVERSION",
  DENIED: "DENIED_CONVERSION",
};

/** "2026-12-05 10:30:00", Refersion's form of a time (UTC here). */
export function refersionTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

export interface ConversionBodyInput {
  conversionId: number;
  orderId: string;
  status: ConversionWebhookStatus;
  created: Date;
  updated: Date;
  total: string;
  commission: string;
  currency: string;
  affiliate?: number;
  test?: boolean;
  deniedReason?: string;
  /** The buyer, as Refersion would send it back: the app must not keep any of it. */
  customer?: { name: string; email: string; browser_ip: string };
}

/** A conversion webhook's body, with the fields Refersion documents (numbers as strings, as it may send them). */
export function conversionWebhookBody(input: ConversionBodyInput): Record<string, unknown> {
  return {
    id: input.conversionId,
    created: refersionTime(input.created),
    updated: refersionTime(input.updated),
    status: input.status,
    denied_reason_code: input.status === "DENIED" ? "MANUAL" : null,
    reason: input.status === "DENIED" ? (input.deniedReason ?? "Denied by the merchant") : null,
    is_recurring: false,
    total_items: 1,
    total: input.total,
    commission_total: input.commission,
    currency: input.currency,
    is_test_conversion: input.test ? 1 : 0,
    payment_status: "PAID",
    affiliate: CONVERSION_AFFILIATES[input.affiliate ?? 0],
    offer: { id: 1, name: "Default offer", type: "PERCENT_OF_SALE", amount: "10" },
    customer: input.customer ?? { name: "Buyer Example", email: "buyer@example.invalid", browser_ip: "203.0.113.7" },
    coupon_code: null,
    order_id: input.orderId,
    subscription_id: null,
    notes: null,
    click: { created: refersionTime(input.created), referer: "https://affiliate.example/", landed_url: "https://shop.example/?rfsn=8908369.4f153d", ip: "203.0.113.7", sub_id: null, creative_id: null },
    source: "SHOPIFY",
  };
}

export interface SignedConversionWebhook {
  topic: string;
  body: string;
  signature: string;
}

export function signedConversionWebhook(body: Record<string, unknown>, status: ConversionWebhookStatus, secret: string): SignedConversionWebhook {
  const text = JSON.stringify(body);
  return { topic: TOPICS[status], body: text, signature: signConversionBody(text, secret) };
}

export function postConversionWebhook(url: string, webhook: SignedConversionWebhook): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Refersion-Topic": webhook.topic, "Refersion-Signature": webhook.signature },
    body: webhook.body,
  });
}

/** One webhook the stand-in sent, and the app's answer (0: no answer). */
export interface SentConversionWebhook {
  at: string;
  orderId: string;
  conversionId: number;
  status: ConversionWebhookStatus;
  signature: "valid" | "wrong";
  answer: number;
}

/** The stand-in affiliate with this id (auto_credit_affiliate_id), or undefined when it has none. */
function affiliateIndexOf(affiliateId: number | undefined): number | undefined {
  const index = CONVERSION_AFFILIATES.findIndex((affiliate) => affiliate.id === affiliateId);
  return index >= 0 ? index : undefined;
}

function amountsOf(order: OrderJson, rate: number) {
  const items = order.items.reduce((sum, item) => sum + Number(item.price) * Number(item.quantity), 0);
  const total = Math.max(0, items - Number(order.discount ?? 0));
  return { total: total.toFixed(2), commission: (total * rate).toFixed(2), currency: order.currency_code };
}

/**
 * Sends the webhooks of accepted orders by the configured plans. `timers` lets the stand-in stop
 * pending sends on close; `sent` lists what was sent and answered.
 */
export function createConversionSender(options: { onSent?: () => void } = {}) {
  let config: ConversionWebhooksConfig | null = null;
  let nextConversionId = 7_000_001;
  const sent: SentConversionWebhook[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  /** Orders credited, for a later cancel: order id -> what was reported last. */
  const credited = new Map<string, ConversionBodyInput>();

  const send = (input: ConversionBodyInput, wrongSignature: boolean, copies: number) => {
    const current = config;
    if (!current) return;
    const secret = wrongSignature ? `${current.signingSecret}-not` : current.signingSecret;
    const webhook = signedConversionWebhook(conversionWebhookBody(input), input.status, secret);
    for (let copy = 0; copy <= copies; copy += 1) {
      const entry: SentConversionWebhook = {
        at: new Date().toISOString(),
        orderId: input.orderId,
        conversionId: input.conversionId,
        status: input.status,
        signature: wrongSignature ? "wrong" : "valid",
        answer: 0,
      };
      sent.push(entry);
      const done = postConversionWebhook(current.url, webhook)
        .then(async (response) => {
          entry.answer = response.status;
          await response.body?.cancel();
        })
        .catch(() => undefined)
        .finally(() => {
          inFlight.delete(done);
          options.onSent?.();
        });
      inFlight.add(done);
    }
  };

  const later = (delayMs: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timers.add(timer);
  };

  return {
    sent,
    configure(value: ConversionWebhooksConfig | null) {
      config = value === null ? null : ConversionWebhooksSchema.parse(value);
    },
    configured: () => config !== null,
    /** An order the stand-in accepted: schedules its webhooks by plan. */
    orderAccepted(order: OrderJson) {
      if (!config) return;
      const plan = config.plans?.[order.order_id] ?? config.defaultPlan ?? { outcome: "none" };
      if (plan.outcome === "none") return;
      const created = new Date(Math.floor(Date.now() / 1000) * 1000);
      const base: ConversionBodyInput = {
        conversionId: nextConversionId++,
        orderId: order.order_id,
        status: "PENDING",
        created,
        updated: created,
        ...amountsOf(order, config.commissionRate ?? 0.1),
        // Refersion credits the affiliate an order names (the checkout pixel's click), not whoever it would match.
        affiliate: affiliateIndexOf(order.auto_credit_affiliate_id) ?? plan.affiliate,
        customer: order.customer
          ? { name: `${order.customer.first_name ?? ""} ${order.customer.last_name ?? ""}`.trim(), email: order.customer.email ?? "", browser_ip: order.customer.ip_address ?? "" }
          : undefined,
      };
      const reports: ConversionBodyInput[] = [base];
      if (plan.outcome !== "credit") {
        const decided = new Date(created.getTime() + 60_000);
        reports.push({ ...base, status: plan.outcome === "approve" ? "APPROVED" : "DENIED", updated: decided, deniedReason: plan.deniedReason });
      }
      if (plan.outOfOrder) reports.reverse();
      if (plan.outcome !== "deny") credited.set(order.order_id, reports.find((report) => report.status !== "PENDING") ?? base);
      later(plan.delayMs ?? 0, () => {
        for (const report of reports) send(report, plan.wrongSignature ?? false, plan.duplicates ?? 0);
      });
    },
    /** The app reversed an order: Refersion denies its conversion, later than anything reported before. */
    orderCancelled(orderId: string) {
      const last = credited.get(orderId);
      if (!last || !config) return;
      credited.delete(orderId);
      const updated = new Date(Math.max(Date.now(), last.updated.getTime() + 60_000));
      send({ ...last, status: "DENIED", updated, deniedReason: "Order cancelled" }, false, 0);
    },
    /** Resolves once nothing is scheduled or on its way. */
    async settled(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (timers.size > 0 || inFlight.size > 0) {
        if (Date.now() > deadline) throw new Error("Conversion webhooks still pending");
        await Promise.race([...inFlight, new Promise((resolve) => setTimeout(resolve, 20))]);
      }
    },
    reset() {
      sent.length = 0;
      credited.clear();
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      config = null;
    },
  };
}

export type ConversionSender = ReturnType<typeof createConversionSender>;
