import { releaseOrdersWaitingForKeys } from "~/orders/release.server";
import { SettingsFormSchema } from "~/settings/settings-form";
import { saveShopSettings } from "~/settings/shop-settings.server";
import { markShopInstalled } from "~/shops/uninstall.server";
import { DEFAULT_SANDBOX_KEYS } from "../../scripts/refersion-sandbox";
import { orderFixture } from "../support/fixtures";
import {
  acceptedCancels,
  configureLifecycleShop,
  refundPayload,
  rowOf,
  sendWebhook,
  useLifecycleHarness,
} from "../support/order-lifecycle";

// An AUD shop whose buyer paid in USD: every *_set holds AUD shop_money and USD presentment_money.
const AUD_SHOP_USD_BUYER = "real-aud-shop-usd-presentment-order-1029-2020.json";
const ORDER_ID = "2998548365461";
const SHOP = "currencies.myshopify.com";

const lifecycle = useLifecycleHarness();
const worker = lifecycle.worker;

/** Saves the settings the way the settings form does: form fields through the shared schema. */
async function saveForm(fields: Record<string, string>) {
  const form = SettingsFormSchema.parse({
    ...DEFAULT_SANDBOX_KEYS,
    forwardingEnabled: "on",
    forwardTestOrders: "on",
    sendCustomerDetails: "on",
    ...fields,
  });
  await saveShopSettings(SHOP, form);
}

const sentOrders = () => lifecycle.sandbox.orders().map((request) => request.body as { currency_code: string; shipping: number; tax: number; items: { price: number }[] });

describe("the buyer's currency, end to end", () => {
  it("GIVEN the buyer's currency is chosen in the settings THEN the order is sent in USD from presentment_money, and its refund is reversed in USD at the price sent", async () => {
    await saveForm({ currency: "presentment" });
    const order = orderFixture(AUD_SHOP_USD_BUYER);
    expect((await sendWebhook(SHOP, "orders/create", order)).status).toBe(200);
    expect(await rowOf(SHOP, ORDER_ID, "order")).toMatchObject({ status: "pending", totalAmount: "45.85", currency: "USD" });
    await worker().drain();

    expect(sentOrders()).toEqual([expect.objectContaining({ currency_code: "USD", shipping: 7.71, tax: 3.47, items: [expect.objectContaining({ price: 34.67, quantity: 1, sku: "" })] })]);

    // The merchant switches to the shop currency afterwards: the reversal still matches what Refersion has.
    await saveForm({ currency: "shop" });
    await sendWebhook(SHOP, "refunds/create", refundPayload(order, 4_001, [{ index: 0, quantity: 1 }]));
    await worker().drain();
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([{ order_id: ORDER_ID, items: [{ sku: "", quantity: 1, price: 34.67 }] }]);
    expect(await rowOf(SHOP, ORDER_ID, "refund:4001")).toMatchObject({ status: "delivered", totalAmount: "-34.67", currency: "USD" });
  });

  it("GIVEN the shop's currency (the default) THEN the same order is sent and cancelled in AUD", async () => {
    await saveForm({ currency: "shop" });
    const order = orderFixture(AUD_SHOP_USD_BUYER);
    await sendWebhook(SHOP, "orders/create", order);
    await sendWebhook(SHOP, "orders/cancelled", order);
    await worker().drain();
    lifecycle.clock.advance(30_000);
    await worker().drain();

    expect(sentOrders()).toEqual([expect.objectContaining({ currency_code: "AUD", shipping: 10.15, tax: 4.56, items: [expect.objectContaining({ price: 45.62 })] })]);
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([{ order_id: ORDER_ID, items: [{ sku: "", quantity: 1, price: 45.62 }] }]);
  });

  it("GIVEN a refund arrives while the order waits for keys, and the keys are saved with the buyer's currency THEN the refund is reversed in USD", async () => {
    // Installed, no keys saved yet: webhooks of a shop that never installed the app store nothing.
    await markShopInstalled(SHOP);
    // A live order (the fixture's store was in test mode; a shop without saved settings skips test orders).
    const order = { ...orderFixture(AUD_SHOP_USD_BUYER), test: false };
    await sendWebhook(SHOP, "orders/create", order);
    await sendWebhook(SHOP, "refunds/create", refundPayload(order, 4_002, [{ index: 0, quantity: 1 }]));
    // Planned against the order as it would have been sent then (AUD).
    expect(JSON.parse((await rowOf(SHOP, ORDER_ID, "refund:4002"))!.requestBody!).items[0].price).toBe(45.62);

    await configureLifecycleShop(SHOP, { currency: "presentment" });
    expect(await releaseOrdersWaitingForKeys(SHOP)).toBe(1);
    await worker().drain();
    lifecycle.clock.advance(30_000);
    await worker().drain();

    expect(sentOrders()[0].currency_code).toBe("USD");
    expect(acceptedCancels(lifecycle.sandbox)).toEqual([{ order_id: ORDER_ID, items: [{ sku: "", quantity: 1, price: 34.67 }] }]);
  });
});
