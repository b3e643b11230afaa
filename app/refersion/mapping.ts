import { computeAmounts, amountsRead } from "./amounts";
import { MappingError, type AttributionSource, type MappingOptions, type MappingResult, type OrderSummary, type RefersionConversion } from "./conversion";
import { orderCurrencies, reportingDecimals, roundTo } from "./money";
import { affiliateIdOf, customerIdOf, customerOf, derivedCartId, discountCodesOf, isSubscriptionOrder, storefrontCartOf } from "./order-attributes";
import { parseOrder, readOrderId } from "./order-payload";

export { currencyDecimals } from "./money";
export { CART_ID_MAX_LENGTH } from "./order-json";
export { DERIVED_CART_ID_PREFIX, MAPPED_LINE_PROPERTIES, MAPPED_NOTE_ATTRIBUTES } from "./order-attributes";

/**
 * Turns a Shopify order (the REST Order of an orders/create webhook, any API version since 2016)
 * into the JSON Refersion's order webhook expects. Pure and total: every problem comes back as a
 * MappingError whose message names the Shopify field, nothing is thrown.
 * The rules, and the Shopify field behind each value, are written down in docs/mapping.md; the
 * parts live beside this file: order-payload.ts (reading the body), money.ts (currencies,
 * amounts, rounding), amounts.ts (items, discount, shipping, tax, total), order-attributes.ts
 * (cart id, codes, subscription, affiliate, customer).
 */
export function mapOrderToConversion(order: unknown, options: MappingOptions): MappingResult {
  try {
    return { ok: true, ...mapOrder(order, options) };
  } catch (error) {
    if (error instanceof MappingError) return { ok: false, error };
    return { ok: false, error: new MappingError("invalid_field", `The order could not be read (${safeMessage(error)})`) };
  }
}

interface MappedOrder {
  conversion: RefersionConversion;
  summary: OrderSummary;
  attribution: AttributionSource;
}

function mapOrder(input: unknown, options: MappingOptions): MappedOrder {
  const order = parseOrder(input);
  const orderId = readOrderId(order);
  const currencies = orderCurrencies(order, options.currency === "presentment" ? "presentment" : "shop");
  // Decided from the payload before anything is computed: amounts are rounded once, at the end.
  const decimals = reportingDecimals(currencies.reported, amountsRead(order, currencies));
  const round = (value: number) => roundTo(value, decimals);
  const amounts = computeAmounts(order, currencies);
  const storefrontCart = storefrontCartOf(order, orderId);
  const cartId = storefrontCart?.cartId ?? derivedCartId(options, orderId);
  // The pixel's click only where Refersion has no cart to match the visit by.
  const clickAffiliateId = storefrontCart ? null : (options.clickAffiliateId ?? null);
  const affiliateId = (options.autoCreditAffiliate ? affiliateIdOf(order) : null) ?? clickAffiliateId;
  const customer = options.includeCustomer ? customerOf(order) : null;
  const discountCode = discountCodesOf(order);
  const attribution: AttributionSource =
    storefrontCart?.source ?? (clickAffiliateId !== null ? "pixel" : discountCode ? "discount_code" : "none");
  const items = amounts.items.map((item) => ({ ...item, price: round(item.price) }));

  // The keys in the order of Refersion's own example, without empty optional ones.
  const conversion: RefersionConversion = {
    cart_id: cartId,
    order_id: orderId,
    ...(isSubscriptionOrder(order) ? { is_subscription: true } : {}),
    ...(affiliateId !== null ? { auto_credit_affiliate_id: affiliateId } : {}),
    shipping: round(amounts.shipping),
    tax: round(amounts.tax),
    discount: round(amounts.discount),
    ...(discountCode ? { discount_code: discountCode } : {}),
    currency_code: currencies.reported,
    ...(customer ? { customer } : {}),
    items,
  };

  const total = round(amounts.total);
  const summary: OrderSummary = {
    orderId,
    name: typeof order.name === "string" && order.name.trim() ? order.name.trim() : null,
    total: total.toFixed(decimals),
    currency: currencies.reported,
    test: order.test === true,
    // No item left to credit (only gift cards or tips, say): Refersion refuses an empty item list.
    zeroValue: items.length === 0 || (total === 0 && round(amounts.merchandise) === 0),
    customerId: customerIdOf(order.customer),
  };
  return { conversion, summary, attribution };
}

function safeMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "unknown error";
  }
}
