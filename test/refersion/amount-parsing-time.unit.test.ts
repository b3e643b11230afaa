import { describe, expect, it } from "vitest";
import { mapOrderToConversion } from "../../app/refersion/mapping";
import { writtenDecimals } from "../../app/refersion/money";
import { fixture, options } from "./order-fixtures";

/**
 * Amounts come from webhook bodies anyone with a shop can shape. Reading one must take time in
 * proportion to its length (no backtracking pattern), and an absurdly long one is refused outright.
 */

const LONG_AMOUNT = `13.5${"0".repeat(30_000)}1`;

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

describe("amount parsing under hostile input", () => {
  it("counts the decimals of a 30,000-digit amount in linear time", () => {
    const { value, ms } = timed(() => writtenDecimals(LONG_AMOUNT));
    expect(value).toBe(30_002);
    expect(ms).toBeLessThan(50);
  });

  it("keeps the decimal count of ordinary amounts", () => {
    expect(writtenDecimals("12.340")).toBe(2);
    expect(writtenDecimals("12")).toBe(0);
    expect(writtenDecimals("12.")).toBe(0);
    expect(writtenDecimals(" 1.2.30 ")).toBe(1);
    expect(writtenDecimals("1.5e3")).toBe(0);
    expect(writtenDecimals("1.2x")).toBe(0);
    expect(writtenDecimals(0.125)).toBe(3);
  });

  it("refuses an order with an absurdly long amount at once, naming the field", () => {
    const order = fixture("shopify-docs-order-1001-2026-07.json");
    order.line_items[0].price = LONG_AMOUNT;
    order.line_items[0].price_set.shop_money.amount = LONG_AMOUNT;
    order.total_price = LONG_AMOUNT;
    const { value, ms } = timed(() => mapOrderToConversion(order, options()));
    expect(ms).toBeLessThan(100);
    expect(value.ok).toBe(false);
    if (!value.ok) {
      expect(value.error.code).toBe("invalid_field");
      expect(value.error.message).toMatch(/should be an amount/);
    }
  });
});
