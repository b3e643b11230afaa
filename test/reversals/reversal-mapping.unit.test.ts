import { planReversals, readRefund, reversedAmount, sentLinePositions, sentOrderOf, type ReversalSource } from "~/reversals/reversal-mapping";
import { mapOrderToConversion } from "~/refersion/mapping";
import { orderFixture } from "../support/fixtures";
import { refundPayload } from "../support/order-payloads";

type Json = Record<string, unknown>;
const OPTIONS = { shop: "r.myshopify.com", currency: "shop" as const, includeCustomer: false, autoCreditAffiliate: false, cartIdSecret: "s" };

/** The order's outbox row as intake stores it: the JSON sent and the order as received. */
function stored(order: Json) {
  const mapped = mapOrderToConversion(order, OPTIONS);
  if (!mapped.ok) throw mapped.error;
  return { requestBody: JSON.stringify(mapped.conversion), orderPayload: JSON.stringify(order), conversion: mapped.conversion };
}

function refundOf(order: Json, lines: { index: number; quantity: number }[], id = 1): ReversalSource {
  const reading = readRefund(refundPayload(order, id, lines));
  if (!reading.ok) throw new Error(reading.error);
  return { reversal: "refund", refundId: reading.refundId, lines: reading.lines };
}

/** The docs order with a gift card bought as its second line, and its third line a second "IPod Nano - 8gb - red" at another price. */
function orderWithGiftCardAndTwin(): Json {
  const order = orderFixture("shopify-docs-order-1001-2026-07.json");
  const [green, red, black] = order.line_items as Json[];
  const giftCard = { ...black, id: 111, admin_graphql_api_id: "gid://shopify/LineItem/111", gift_card: true, sku: "GIFT", name: "Gift card", discount_allocations: [], tax_lines: [] };
  const twin = { ...red, id: 222, admin_graphql_api_id: "gid://shopify/LineItem/222", price: "150.00", price_set: { shop_money: { amount: "150.00", currency_code: "USD" }, presentment_money: { amount: "150.00", currency_code: "USD" } }, discount_allocations: [], tax_lines: [] };
  return { ...order, line_items: [green, giftCard, red, twin, black] };
}

describe("matching refunded lines to the items sent", () => {
  it("knows which Shopify line produced which sent item, skipping lines that were never sent (a gift card)", () => {
    const order = orderWithGiftCardAndTwin();
    const { conversion } = stored(order);
    expect(conversion.items.map((item) => item.sku)).toEqual(["IPOD2008GREEN", "IPOD2008RED", "IPOD2008RED", "IPOD2008BLACK"]);
    expect([...sentLinePositions(order, conversion.items)!]).toEqual([
      ["466157049", 0],
      ["518995019", 1],
      ["222", 2],
      ["703073504", 3],
    ]);
  });

  it("cancels the very line refunded, even when another line has the same sku and name at another price", () => {
    const order = orderWithGiftCardAndTwin();
    const { requestBody, orderPayload } = stored(order);
    const sent = sentOrderOf(requestBody, orderPayload)!;
    const [items] = planReversals(sent, [refundOf(order, [{ index: 3, quantity: 1 }])]);
    expect(items).toEqual([{ sku: "IPOD2008RED", quantity: 1, price: 150 }]);
    // The gift card was never credited: refunding it cancels nothing.
    expect(planReversals(sent, [refundOf(order, [{ index: 1, quantity: 1 }])])).toEqual([[]]);
  });

  it("without the stored order, matches by sku and name, and never takes back more than was sent", () => {
    const order = orderWithGiftCardAndTwin();
    const { requestBody } = stored(order);
    const sent = sentOrderOf(requestBody, null)!;
    expect(sent.positions).toBeNull();
    const plans = planReversals(sent, [refundOf(order, [{ index: 2, quantity: 1 }, { index: 3, quantity: 1 }], 1), refundOf(order, [{ index: 2, quantity: 1 }], 2)]);
    // Both reds (one of each price) are taken by the first refund; nothing is left for the second.
    expect(plans).toEqual([
      [
        { sku: "IPOD2008RED", quantity: 1, price: 199 },
        { sku: "IPOD2008RED", quantity: 1, price: 150 },
      ],
      [],
    ]);
  });

  it("plans a cancellation after refunds as whatever is left", () => {
    const order = orderFixture("real-inr-order-1005-cancelled-freeship-2024.json");
    const { requestBody, orderPayload } = stored(order);
    const sent = sentOrderOf(requestBody, orderPayload)!;
    const plans = planReversals(sent, [refundOf(order, [{ index: 0, quantity: 1 }]), { reversal: "cancel" }, { reversal: "cancel" }]);
    expect(plans).toEqual([
      [{ sku: "sku-managed-1", quantity: 1, price: 629.95 }],
      [
        { sku: "sku-managed-1", quantity: 1, price: 629.95 },
        { sku: "", quantity: 2, price: 749.95 },
      ],
      [],
    ]);
    expect(reversedAmount(plans[1], "INR")).toBe("-2129.85");
    expect(reversedAmount([{ sku: "", quantity: 3, price: 1000 }], "JPY")).toBe("-3000");
  });
});

describe("reading refunds/create", () => {
  const order = orderFixture("shopify-docs-order-1001-2026-07.json");
  const real = (order.refunds as Json[])[0];

  it("reads Shopify's own refund: its id, order, lines and the money returned", () => {
    expect(readRefund(real)).toEqual({
      ok: true,
      refundId: "509562969",
      orderId: "450789469",
      moneyReturned: true,
      lines: [
        { lineItemId: "703073504", sku: "IPOD2008BLACK", name: "IPod Nano - 8gb - black", quantity: 1 },
        { lineItemId: "466157049", sku: "IPOD2008GREEN", name: "IPod Nano - 8gb - green", quantity: 1 },
      ],
    });
  });

  it.each([
    ["no transaction (a restock)", { transactions: [] }, false],
    ["a refund of 0.00", { transactions: [{ kind: "refund", status: "success", amount: "0.00" }] }, false],
    ["a refund that failed at the gateway", { transactions: [{ kind: "refund", status: "failure", amount: "209.00" }] }, false],
    ["a refund still pending at the gateway", { transactions: [{ kind: "refund", status: "pending", amount: "209.00" }] }, true],
    ["an older payload without transactions (refunded subtotals count)", { transactions: undefined }, true],
  ])("money returned by %s: %s", (_name, change, expected) => {
    const reading = readRefund({ ...real, ...change });
    expect(reading.ok && reading.moneyReturned).toBe(expected);
  });

  it("refuses an order_id that JSON.parse rounded (beyond 2^53 without its exact digits)", () => {
    const rounded = JSON.parse('{"order_id": 820982911946154508}').order_id as number;
    expect(readRefund({ ...real, order_id: rounded })).toEqual({ ok: false, error: "The refund's order_id cannot be read exactly" });
    expect(readRefund({ ...real, order_id: "820982911946154508" })).toMatchObject({ ok: true, orderId: "820982911946154508" });
  });
});
