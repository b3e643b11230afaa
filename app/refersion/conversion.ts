/**
 * The JSON body Refersion's order webhook expects (server-side tracking, step 3), as sent.
 * Amounts are JSON numbers in the currency named by currency_code.
 */
export interface RefersionConversion {
  cart_id: string;
  order_id: string;
  currency_code: string;
  shipping: number;
  tax: number;
  discount: number;
  discount_code?: string;
  is_subscription?: boolean;
  subscription_id?: string;
  auto_credit_affiliate_id?: number;
  customer?: RefersionCustomer;
  items: RefersionItem[];
}

export interface RefersionCustomer {
  first_name?: string;
  last_name?: string;
  email?: string;
  ip_address?: string;
}

export interface RefersionItem {
  /** Unit price before discounts and before tax. */
  price: number;
  quantity: number;
  /** May be blank when the product has no SKU. */
  sku: string;
  name?: string;
}

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
}

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
  | { ok: true; conversion: RefersionConversion; summary: OrderSummary }
  | { ok: false; error: MappingError };
