/**
 * The web pixel's checks on what it reads (extensions/refersion-checkout-pixel/src/checkout-report.ts),
 * on their own; web-pixel.test.ts runs the built pixel in Chromium.
 */
import { checkoutTokenOf, clickOf, orderIdOf, reportUrlOf, shopOf } from "../../extensions/refersion-checkout-pixel/src/checkout-report";

describe("orderIdOf", () => {
  it.each([
    [5550000000001, "5550000000001"],
    ["5550000000001", "5550000000001"],
    [" 5550000000001 ", "5550000000001"],
    ["gid://shopify/OrderIdentity/5550000000001", "5550000000001"],
    [Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)],
  ])("keeps the digits of %j", (value, digits) => {
    expect(orderIdOf(value)).toBe(digits);
  });

  it.each([null, undefined, 0, -5, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, "", "0", "012", "12a", "gid://shopify/Order/5", "gid://shopify/OrderIdentity/", "gid://shopify/OrderIdentity/5?x=1", "1".repeat(21), {}, [5]])(
    "refuses %j",
    (value) => {
      expect(orderIdOf(value)).toBeNull();
    },
  );
});

describe("clickOf", () => {
  it("takes the three values of a click record, trimmed", () => {
    expect(clickOf([" click-1 ", "8908369", "4f153d"])).toEqual({ id: "click-1", affiliateId: "8908369", cs: "4f153d" });
  });

  it.each([
    [[null, "8908369", "4f153d"]],
    [["click-1", null, "4f153d"]],
    [["click-1", "8908369", null]],
    [["click 1", "8908369", "4f153d"]],
    [["click-1", "-8908369", "4f153d"]],
    [["click-1", "8908369.5", "4f153d"]],
    [["click-1", "8908369", "4f 153d"]],
    [[1, "8908369", "4f153d"]],
    [[]],
  ])("refuses %j", (values) => {
    expect(clickOf(values)).toBeNull();
  });
});

describe("reportUrlOf", () => {
  it.each([
    ["https://app.example.com/pixel/checkout-completed", "https://app.example.com/pixel/checkout-completed"],
    [" https://app.example.com/pixel ", "https://app.example.com/pixel"],
    ["http://127.0.0.1:3000/pixel", "http://127.0.0.1:3000/pixel"],
    ["http://localhost:3000/pixel", "http://localhost:3000/pixel"],
  ])("accepts %j", (value, url) => {
    expect(reportUrlOf(value)).toBe(url);
  });

  it.each([undefined, null, "", "app.example.com/pixel", "http://app.example.com/pixel", "ftp://app.example.com/", "javascript:alert(1)", "https://user:pw@app.example.com/pixel", "data:text/plain,x"])(
    "refuses %j",
    (value) => {
      expect(reportUrlOf(value)).toBeNull();
    },
  );
});

describe("shopOf and checkoutTokenOf", () => {
  it("accept a myshopify.com domain and a printable token", () => {
    expect(shopOf("refersion-demo.myshopify.com")).toBe("refersion-demo.myshopify.com");
    expect(checkoutTokenOf("b1946ac92492d2347c6235b4d2611184")).toBe("b1946ac92492d2347c6235b4d2611184");
  });

  it("refuse anything else", () => {
    for (const value of ["shop.example.com", "Refersion-Demo.myshopify.com", "x.myshopify.com.evil.example", "", null]) expect(shopOf(value)).toBeNull();
    for (const value of ["", "a b", "x".repeat(257), null, 42]) expect(checkoutTokenOf(value)).toBeNull();
  });
});
