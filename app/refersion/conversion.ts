import type { OrderJson } from "./order-json";

/**
 * The JSON the app posts to Refersion's order webhook: Refersion's order JSON (order-json.ts)
 * with the three amounts always present (0 when the order has none).
 */
export type RefersionConversion = OrderJson & { shipping: number; tax: number; discount: number };

export type RefersionCustomer = NonNullable<OrderJson["customer"]>;

export type RefersionItem = OrderJson["items"][number];

/** Which currency the amounts are reported in. */
export type CurrencyChoice = "shop" | "presentment";

export interface MappingOptions {
  /** The shop's myshopify domain; part of the derived cart id for orders without a cart token. */
  shop: string;
  currency: CurrencyChoice;
  /** Send customer name, email and IP address. */
  includeCustomer: boolean;
  /** Send the storefront's `_rfsn_aid` note attribute as auto_credit_affiliate_id. */
  autoCreditAffiliate: boolean;
  /**
   * Server-side secret used to derive an unguessable, stable cart id for orders that carry no
   * cart token and no storefront note attribute.
   */
  cartIdSecret: string;
  /**
   * The affiliate of the checkout pixel's click for this order (app/attribution/): sent as
   * auto_credit_affiliate_id only when the order has no storefront cart id (no cart token, no
   * `_rfsn_cart`), which Refersion matches the click by itself.
   */
  clickAffiliateId?: number | null;
}

/**
 * What credits the order at Refersion, by precedence: its cart token, the storefront's `_rfsn_cart`
 * attribute, the checkout pixel's click, a discount code (Refersion's coupon triggers), nothing.
 */
export type AttributionSource = "cart_token" | "cart_attribute" | "pixel" | "discount_code" | "none";

/** Facts about the order that the outbox and the delivery log need besides the conversion. */
export interface OrderSummary {
  /** The Shopify order id as an exact decimal string (ids can exceed 2^53). */
  orderId: string;
  /** e.g. "#1001" */
  name: string | null;
  /** The order total as Shopify reported it, in the reported currency, e.g. "59.45". */
  total: string;
  currency: string;
  test: boolean;
  /** True when nothing was paid for merchandise (a zero-value order). */
  zeroValue: boolean;
  customerId: string | null;
}

export type MappingErrorCode =
  | "not_an_order"
  | "invalid_field"
  | "unsupported_currency"
  | "inconsistent_amounts"
  /** The app's own mapping options cannot be used (e.g. no secret to derive a cart id with). */
  | "invalid_options";

export class MappingError extends Error {
  override name = "MappingError";
  constructor(
    readonly code: MappingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type MappingResult =
  | { ok: true; conversion: RefersionConversion; summary: OrderSummary; attribution: AttributionSource }
  | { ok: false; error: MappingError };
