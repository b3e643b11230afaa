import { z } from "zod";
import type { RefersionItem } from "../refersion/conversion";
import { currencyDecimals, mapOrderToConversion } from "../refersion/mapping";
import type { CancelItem, CancelJson } from "../refersion/order-json";
import { NumericId, Quantity } from "../refersion/shopify-order";

/**
 * Reversals (cancellations and refunds) as Refersion's cancel call expects them: `{order_id,
 * items: [{sku, quantity, price}]}`, where every item repeats the sku and unit price that the
 * order itself sent, so Refersion can match them. Pure: the outbox code feeds it the order's
 * stored JSON and the reversals already recorded. The rules are in docs/mapping.md (Reversals).
 */

/** The cancel call's body and items, as Refersion's contract defines them (app/refersion/order-json.ts). */
export type ReversalBody = CancelJson;
export type ReversalItem = CancelItem;

/** One refunded order line, as read from a refunds/create payload. */
export interface RefundLine {
  /** Shopify's line item id (exact digits), when the payload has one. */
  lineItemId: string | null;
  /** The line's sku as the order mapping reads it ("" when there is none). */
  sku: string;
  /** The line's name (else title), as the order mapping reads it. */
  name: string | null;
  quantity: number;
}

/**
 * What a reversal takes back, stored with its outbox row so its body can be planned again if the
 * order's own JSON changes before the order is sent (see app/reversals/store.server.ts).
 */
export type ReversalSource = { reversal: "cancel" } | { reversal: "refund"; refundId: string; lines: RefundLine[] };

/** The order as it was (or will be) sent, and how its items relate to Shopify's line items. */
export interface SentOrder {
  orderId: string;
  currency: string;
  items: RefersionItem[];
  /** Shopify line item id -> index in `items`; null when the stored order does not tell. */
  positions: Map<string, number> | null;
}

// ---------------------------------------------------------------------------------------------
// The sent order

const SentBody = z.looseObject({
  order_id: z.string(),
  currency_code: z.string(),
  items: z.array(z.looseObject({ sku: z.string(), quantity: z.number(), price: z.number(), name: z.string().optional() })),
});

/** Reads the order's outbox row: the JSON it sends and the Shopify order it was mapped from. */
export function sentOrderOf(requestBody: string | null, orderPayload: string | null): SentOrder | null {
  const body = SentBody.safeParse(parseJson(requestBody));
  if (!body.success) return null;
  const items = body.data.items as RefersionItem[];
  return {
    orderId: body.data.order_id,
    currency: body.data.currency_code,
    items,
    positions: sentLinePositions(parseJson(orderPayload), items),
  };
}

const POSITION_TAG = "line:";

/**
 * Which Shopify line produced which sent item. The mapping decides which lines become items
 * (gift cards, tips and lines with nothing ordered do not), so instead of repeating its rules
 * this maps a copy of the order whose skus are replaced by the lines' positions and reads them
 * back from the items. The result is checked against what was sent (same count, skus and
 * quantities); anything unexpected gives null, and refunds then match by sku and name.
 */
export function sentLinePositions(order: unknown, sentItems: RefersionItem[]): Map<string, number> | null {
  if (!order || typeof order !== "object" || Array.isArray(order)) return null;
  const record = order as Record<string, unknown>;
  if (!Array.isArray(record.line_items)) return null;
  const lines = record.line_items as unknown[];
  const tagged = {
    ...record,
    line_items: lines.map((line, index) => (line && typeof line === "object" ? { ...line, sku: `${POSITION_TAG}${index}` } : line)),
  };
  // Positions do not depend on the currency, but an order may only map in one of the two modes.
  for (const currency of ["shop", "presentment"] as const) {
    const result = mapOrderToConversion(tagged, {
      shop: "positions.invalid",
      currency,
      includeCustomer: false,
      autoCreditAffiliate: false,
      cartIdSecret: "positions",
    });
    if (!result.ok) continue;
    const mapped = result.conversion.items;
    if (mapped.length !== sentItems.length) return null;
    const positions = new Map<string, number>();
    for (const [position, item] of mapped.entries()) {
      const line = lines[Number(item.sku.slice(POSITION_TAG.length))] as Record<string, unknown> | undefined;
      const id = line ? lineItemIdOf(line) : null;
      const sent = sentItems[position];
      if (!line || !id || positions.has(id) || sent.sku !== skuOf(line.sku) || sent.quantity !== item.quantity) return null;
      positions.set(id, position);
    }
    return positions;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Reading a refunds/create payload

const MoneyText = z.union([z.string(), z.number()]);

const RefundSchema = z.looseObject({
  id: NumericId.nullish(),
  admin_graphql_api_id: z.string().nullish(),
  order_id: NumericId,
  refund_line_items: z
    .array(
      z.looseObject({
        line_item_id: NumericId.nullish(),
        quantity: Quantity,
        subtotal: MoneyText.nullish(),
        subtotal_set: z.looseObject({ shop_money: z.looseObject({ amount: MoneyText }).nullish() }).nullish(),
        line_item: z.looseObject({}).nullish(),
      }),
    )
    .nullish(),
  transactions: z.array(z.looseObject({ kind: z.unknown(), status: z.unknown(), amount: MoneyText.nullish() })).nullish(),
});

export type RefundReading =
  | { ok: true; refundId: string; orderId: string; lines: RefundLine[]; moneyReturned: boolean }
  | { ok: false; error: string };

/**
 * The refund's id, its order, the lines it refunds (quantity > 0) and whether it gives money back:
 * a `refund` transaction that succeeded (or is still pending at the gateway) for more than zero.
 * Payloads without `transactions` count as giving money back when their lines' subtotals do.
 */
export function readRefund(payload: unknown): RefundReading {
  const parsed = RefundSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `The refund ${issue ? `field ${issue.path.join(".") || "(root)"} ` : ""}could not be read` };
  }
  const refund = parsed.data;
  const gid = refund.admin_graphql_api_id ? /^gid:\/\/shopify\/Refund\/(\d+)$/.exec(refund.admin_graphql_api_id.trim()) : null;
  const refundId = gid?.[1] ?? exactId(refund.id);
  const orderId = exactId(refund.order_id);
  if (!refundId) return { ok: false, error: "The refund has no id that can be read exactly" };
  if (!orderId) return { ok: false, error: "The refund's order_id cannot be read exactly" };

  const lines: RefundLine[] = [];
  let subtotal = 0;
  for (const entry of refund.refund_line_items ?? []) {
    const quantity = Number(entry.quantity);
    if (quantity <= 0) continue;
    const line = (entry.line_item ?? {}) as Record<string, unknown>;
    lines.push({
      lineItemId: lineItemIdOf(line) ?? exactId(entry.line_item_id),
      sku: skuOf(line.sku),
      name: textOf(line.name) ?? textOf(line.title),
      quantity,
    });
    subtotal += Math.max(0, Number(entry.subtotal_set?.shop_money?.amount ?? entry.subtotal ?? 0) || 0);
  }
  const moneyReturned = refund.transactions
    ? refund.transactions.some(
        (transaction) =>
          transaction.kind === "refund" &&
          (transaction.status === "success" || transaction.status === "pending") &&
          Number(transaction.amount ?? 0) > 0,
      )
    : subtotal > 0;
  return { ok: true, refundId, orderId, lines, moneyReturned };
}

// ---------------------------------------------------------------------------------------------
// Planning

/**
 * The items each reversal cancels, in the order they were recorded: a refund takes back its
 * lines (at most what is still credited), a cancellation whatever is left. Quantities already
 * taken back by an earlier reversal are never taken back again, so a refund followed by the
 * order's cancellation (Shopify sends both when a merchant cancels and refunds) reverses each
 * item once. An empty list means there is nothing (left) to reverse.
 */
export function planReversals(sent: SentOrder, sources: ReversalSource[]): ReversalItem[][] {
  const reversed = sent.items.map(() => 0);
  return sources.map((source) => {
    // Sent item index -> quantity this reversal takes back (one entry per sent item).
    const taken = new Map<number, number>();
    const take = (index: number, wanted: number): number => {
      const quantity = Math.min(wanted, sent.items[index].quantity - reversed[index]);
      if (quantity <= 0) return 0;
      reversed[index] += quantity;
      taken.set(index, (taken.get(index) ?? 0) + quantity);
      return quantity;
    };
    if (source.reversal === "cancel") {
      sent.items.forEach((item, index) => take(index, item.quantity));
    } else {
      for (const line of source.lines) {
        let left = line.quantity;
        for (const index of candidatesFor(sent, line)) {
          left -= take(index, left);
          if (left <= 0) break;
        }
      }
    }
    return [...taken].map(([index, quantity]) => ({ sku: sent.items[index].sku, quantity, price: sent.items[index].price }));
  });
}

/**
 * The sent items a refunded line may stand for. With known positions, exactly the item its line
 * produced (none for a line that was never sent: a gift card, a tip, a line added later by an
 * order edit). Otherwise the items with its sku and name, else (with a sku) its sku alone.
 */
function candidatesFor(sent: SentOrder, line: RefundLine): number[] {
  if (sent.positions) {
    const position = line.lineItemId !== null ? sent.positions.get(line.lineItemId) : undefined;
    return position === undefined ? [] : [position];
  }
  const indexes = sent.items.map((_, index) => index);
  const byName = indexes.filter((index) => sent.items[index].sku === line.sku && (sent.items[index].name ?? null) === line.name);
  if (byName.length > 0) return byName;
  return line.sku ? indexes.filter((index) => sent.items[index].sku === line.sku) : [];
}

/** Σ price × quantity of a reversal, as a negative amount for the delivery log ("-12.50"). */
export function reversedAmount(items: ReversalItem[], currency: string): string {
  const decimals = Math.min(4, Math.max(currencyDecimals(currency), ...items.map((item) => /\.(\d+)$/.exec(String(item.price))?.[1].length ?? 0)));
  const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return total > 0 ? `-${total.toFixed(decimals)}` : (0).toFixed(decimals);
}

// ---------------------------------------------------------------------------------------------
// Small readers (the same reading of sku, name and ids as the order mapping)

function parseJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function textOf(value: unknown): string | null {
  if (typeof value === "string") return value.trim() || null;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

function skuOf(value: unknown): string {
  return textOf(value) ?? "";
}

function exactId(value: unknown): string | null {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === "string" && /^\d{1,30}$/.test(value.trim())) return value.trim();
  return null;
}

/** A line item's id: the digits of its gid (always exact), else its id. */
function lineItemIdOf(line: Record<string, unknown>): string | null {
  const gid = typeof line.admin_graphql_api_id === "string" ? /^gid:\/\/shopify\/LineItem\/(\d+)$/.exec(line.admin_graphql_api_id.trim()) : null;
  return gid?.[1] ?? exactId(line.id);
}
