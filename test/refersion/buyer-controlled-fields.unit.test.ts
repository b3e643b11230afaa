import { describe, expect, it } from "vitest";
import type { MappingOptions } from "../../app/refersion/conversion";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { fixture, options, type Json } from "./order-fixtures";

/**
 * Note attributes and line item properties are written by whoever holds the cart: any shopper can
 * set them through the storefront's cart API (`/cart/update.js` attributes, `/cart/add.js`
 * properties). What they decide in the order sent to Refersion is limited to what the merchant
 * accepted: the cart id, and the affiliate only with the auto-credit option on, only as an id of
 * digits. They never make an order a subscription nor give it a subscription id.
 */

const ORDER = "real-aud-order-1030-2020.json";

function sent(order: Json, overrides: Partial<MappingOptions> = {}) {
  const result = mapOrderToConversion(order, options(overrides));
  if (!result.ok) throw new Error(result.error.message);
  return result.conversion as unknown as Json;
}

describe("fields any shopper can write", () => {
  it.each([
    ["Skio's subscription id attribute", (order: Json) => (order.note_attributes = [{ name: "shopify_order_subscription_id", value: "chosen-by-buyer" }])],
    ["Skio's provider attribute", (order: Json) => (order.note_attributes = [{ name: "subscription_provider", value: "skio" }])],
    ["Recharge's subscription_id line property", (order: Json) => (order.line_items[0].properties = [{ name: "subscription_id", value: "22093657" }])],
    ["Recharge's interval line properties", (order: Json) => (order.line_items[0].properties = [{ name: "shipping_interval_frequency", value: "30" }, { name: "charge_interval_frequency", value: "30" }])],
    ["a plain-object property list", (order: Json) => (order.line_items[0].properties = { subscription_id: "22093657", shipping_interval_unit_type: "day" })],
  ])("do not make an order a subscription: %s", (_label, write) => {
    const order = fixture(ORDER);
    write(order);
    const conversion = sent(order);
    expect(conversion).not.toHaveProperty("is_subscription");
    expect(conversion).not.toHaveProperty("subscription_id");
  });

  it("never give a subscription order an id, even when a trusted marker says it is one", () => {
    const order = fixture(ORDER);
    order.tags = "Subscription Recurring Order";
    order.note_attributes = [{ name: "shopify_order_subscription_id", value: "chosen-by-buyer" }];
    order.line_items[0].properties = [{ name: "subscription_id", value: "22093657" }];
    const conversion = sent(order);
    expect(conversion.is_subscription).toBe(true);
    expect(conversion).not.toHaveProperty("subscription_id");
  });

  it("marks a subscription from Shopify's selling plan allocation, which only checkout writes", () => {
    const order = fixture(ORDER);
    order.line_items[0].selling_plan_allocation = { price: "10.00", selling_plan: { id: 690_119_000, name: "Delivered every month" } };
    expect(sent(order).is_subscription).toBe(true);
    order.line_items[0].selling_plan_allocation = null;
    expect(sent(order)).not.toHaveProperty("is_subscription");
  });

  it("choose the credited affiliate only with the auto-credit option on, and only as digits", () => {
    const order = fixture(ORDER);
    order.note_attributes = [{ name: "_rfsn_aid", value: "8908369" }];
    expect(sent(order)).not.toHaveProperty("auto_credit_affiliate_id");
    expect(sent(order, { autoCreditAffiliate: true }).auto_credit_affiliate_id).toBe(8908369);
    for (const value of ["8908369abc", "-1", "0", "1e6", "8908369; 12", "", "１２３"]) {
      order.note_attributes = [{ name: "_rfsn_aid", value }];
      expect(sent(order, { autoCreditAffiliate: true }), value).not.toHaveProperty("auto_credit_affiliate_id");
    }
  });
});

describe("the auto-credit option's help text on the settings page", () => {
  it("states that any shopper can choose the credited affiliate, and which ids are accepted", async () => {
    const { AUTO_CREDIT_AFFILIATE_HELP } = await import("../../app/components/SettingsForm");
    expect(AUTO_CREDIT_AFFILIATE_HELP).toMatch(/any shopper can change it/);
    expect(AUTO_CREDIT_AFFILIATE_HELP).toMatch(/a buyer can choose which affiliate is credited, themselves included/);
    expect(AUTO_CREDIT_AFFILIATE_HELP).toMatch(/Only ids made of digits are accepted/);
  });
});
