/** Webhook payloads made from the order fixtures, without anything else of the app: pure data. */

type Json = Record<string, unknown>;

/** An order with its ids replaced, so one fixture yields many orders. */
export function withOrderId(order: Json, orderId: number): Json {
  return { ...order, id: orderId, admin_graphql_api_id: `gid://shopify/Order/${orderId}` };
}

/**
 * A refunds/create payload as Shopify sends it (REST Refund: refund_line_items with the whole
 * line item, transactions, order_adjustments) for some lines of an order. `money: false` makes a
 * restock-only refund (no transaction); `amount` overrides the refunded amount.
 */
export function refundPayload(
  order: Json,
  refundId: number,
  lines: { index: number; quantity: number; restockType?: string }[],
  options: { money?: boolean; amount?: string } = {},
): Json {
  const lineItems = order.line_items as Json[];
  const currency = String(order.currency);
  const refundLineItems = lines.map(({ index, quantity, restockType }, position) => {
    const line = lineItems[index];
    const subtotal = (Number(line.price) * quantity).toFixed(2);
    return {
      id: refundId * 10 + position,
      line_item_id: line.id,
      location_id: null,
      quantity,
      restock_type: restockType ?? "return",
      subtotal: Number(subtotal),
      subtotal_set: {
        shop_money: { amount: subtotal, currency_code: currency },
        presentment_money: { amount: subtotal, currency_code: String(order.presentment_currency ?? currency) },
      },
      total_tax: 0,
      total_tax_set: { shop_money: { amount: "0.00", currency_code: currency }, presentment_money: { amount: "0.00", currency_code: currency } },
      line_item: line,
    };
  });
  const amount = options.amount ?? refundLineItems.reduce((sum, line) => sum + line.subtotal, 0).toFixed(2);
  return {
    id: refundId,
    admin_graphql_api_id: `gid://shopify/Refund/${refundId}`,
    order_id: order.id,
    created_at: "2026-11-20T10:00:00-05:00",
    note: null,
    processed_at: "2026-11-20T10:00:00-05:00",
    restock: lines.some((line) => line.restockType !== "no_restock"),
    user_id: null,
    duties: [],
    total_duties_set: { shop_money: { amount: "0.00", currency_code: currency }, presentment_money: { amount: "0.00", currency_code: currency } },
    order_adjustments: [],
    refund_line_items: refundLineItems,
    transactions:
      options.money === false
        ? []
        : [
            {
              id: refundId + 1,
              admin_graphql_api_id: `gid://shopify/OrderTransaction/${refundId + 1}`,
              amount,
              currency,
              gateway: "bogus",
              kind: "refund",
              order_id: order.id,
              parent_id: null,
              status: "success",
              test: true,
            },
          ],
    refund_shipping_lines: [],
  };
}
