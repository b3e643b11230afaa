import { z } from "zod";

/**
 * Refersion's JSON bodies, as Refersion accepts them: the order webhook of server-side tracking
 * (step 3 of Refersion's guide, `POST tracker/orders/paid`) and the REST cancel call
 * (`POST /v2/conversion/cancel`). The app's types are inferred from these schemas, the mapping's
 * output is tested against them, and the local Refersion stand-in (scripts/refersion-sandbox.ts)
 * validates what it receives with them, so the three cannot drift apart.
 *
 * The messages are the receiver's: they read "field: message" once the stand-in prefixes the path.
 */

/** Longest value Refersion accepts for cart_id. */
export const CART_ID_MAX_LENGTH = 255;

/** "is required" when absent, else `wrongType`. */
const typeError = (wrongType: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : wrongType);

const nonBlankString = () =>
  z.string({ error: typeError("must be a string") }).refine((value) => value.trim().length > 0, "must not be empty or blank");

/** Amounts are JSON numbers in the currency named by currency_code. */
const amount = () => z.number({ error: typeError("must be a JSON number (no strings, no currency symbols)") }).min(0, "must be >= 0");

const optionalString = () => z.string({ error: "must be a string" }).optional();

const quantity = () => z.number({ error: typeError("must be a JSON number") }).positive("must be > 0");

const OrderItemSchema = z.object(
  {
    /** May be blank when the product has no SKU. */
    sku: z.string({ error: typeError("must be a string (it may be empty)") }),
    quantity: quantity(),
    /** The unit price (not the line total), before discounts and before tax. */
    price: amount(),
    name: optionalString(),
  },
  { error: "must be an object" },
);

const CustomerSchema = z.object(
  {
    first_name: optionalString(),
    last_name: optionalString(),
    email: optionalString(),
    ip_address: optionalString(),
  },
  { error: "must be an object" },
);

/** The order webhook's JSON. Unknown top-level keys are refused; only the ids, currency and items are required. */
export const OrderJsonSchema = z.strictObject(
  {
    cart_id: nonBlankString().refine((value) => value.length <= CART_ID_MAX_LENGTH, `must be at most ${CART_ID_MAX_LENGTH} characters`),
    order_id: nonBlankString(),
    currency_code: z.string({ error: typeError("must be a string") }).regex(/^[A-Z]{3}$/, "must be three uppercase letters, e.g. USD"),
    items: z.array(OrderItemSchema, { error: typeError("must be an array") }).min(1, "must not be empty"),
    shipping: amount().optional(),
    tax: amount().optional(),
    discount: amount().optional(),
    /** Every coupon code of the order, joined with commas. */
    discount_code: optionalString(),
    is_subscription: z.boolean({ error: "must be a boolean" }).optional(),
    subscription_id: optionalString(),
    /** Credits this affiliate directly, bypassing click matching. */
    auto_credit_affiliate_id: z.number({ error: "must be a JSON number" }).int("must be an integer").positive("must be > 0").optional(),
    customer: CustomerSchema.optional(),
  },
  { error: (issue) => (issue.code === "invalid_type" ? "the body must be a JSON object" : undefined) },
);

export type OrderJson = z.infer<typeof OrderJsonSchema>;

/** The cancel call's JSON: the order, and the items (sku, quantity, unit price as sent) it takes back. */
export const CancelJsonSchema = z.object(
  {
    order_id: nonBlankString(),
    items: z
      .array(z.object({ sku: z.string({ error: typeError("must be a string") }), quantity: quantity(), price: amount() }, { error: "must be an object" }), {
        error: typeError("must be an array"),
      })
      .min(1, "must not be empty"),
  },
  { error: "the body must be a JSON object" },
);

export type CancelJson = z.infer<typeof CancelJsonSchema>;
export type CancelItem = CancelJson["items"][number];
