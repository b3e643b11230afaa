/**
 * The report's form as the app accepts it, and the pixel's own: every report the pixel can send
 * (extensions/refersion-checkout-pixel/src/checkout-report.ts) parses, nothing else does.
 */
import { CLICK_REPORT_MAX_BYTES, checkoutTokenHash, clickAffiliateFor, hintForOrder, parseClickReport, storedHintOf, unmatchedReportCount } from "~/attribution/click-report";
import { checkoutTokenOf, clickOf, orderIdOf, shopOf } from "../../extensions/refersion-checkout-pixel/src/checkout-report";

const REPORT = {
  shop: "refersion-demo.myshopify.com",
  orderId: "5550000000001",
  checkoutToken: "b1946ac92492d2347c6235b4d2611184",
  click: { id: "click-8908369-4f153d", affiliateId: "8908369", cs: "4f153d" },
};

describe("parseClickReport", () => {
  it("accepts what the pixel builds from what it reads", () => {
    const built = {
      shop: shopOf(" refersion-demo.myshopify.com "),
      orderId: orderIdOf("gid://shopify/OrderIdentity/5550000000001"),
      checkoutToken: checkoutTokenOf("b1946ac92492d2347c6235b4d2611184"),
      click: clickOf(["click-8908369-4f153d", "8908369", "4f153d"]),
    };
    expect(parseClickReport(JSON.stringify(built))).toEqual(REPORT);
    expect(parseClickReport(JSON.stringify({ ...REPORT, checkoutToken: null }))).toEqual({ ...REPORT, checkoutToken: null });
    expect(JSON.stringify(REPORT).length).toBeLessThan(CLICK_REPORT_MAX_BYTES / 4);
  });

  it.each<[string, string]>([
    ["not JSON", "{"],
    ["an array", "[]"],
    ["another shop domain", JSON.stringify({ ...REPORT, shop: "evil.example.com" })],
    ["an order id with letters", JSON.stringify({ ...REPORT, orderId: "55x" })],
    ["a gid order id (the pixel sends digits)", JSON.stringify({ ...REPORT, orderId: "gid://shopify/OrderIdentity/1" })],
    ["an affiliate id starting with 0", JSON.stringify({ ...REPORT, click: { ...REPORT.click, affiliateId: "0123" } })],
    ["markup as a click id", JSON.stringify({ ...REPORT, click: { ...REPORT.click, id: "<script>" } })],
    ["a checkout token with spaces", JSON.stringify({ ...REPORT, checkoutToken: "a b" })],
    ["an extra key (an email)", JSON.stringify({ ...REPORT, email: "buyer@example.com" })],
    ["an extra key in the click", JSON.stringify({ ...REPORT, click: { ...REPORT.click, ip: "1.2.3.4" } })],
    ["no click", JSON.stringify({ ...REPORT, click: undefined })],
  ])("refuses %s", (_name, body) => {
    expect(parseClickReport(body)).toBeNull();
  });
});

describe("what is kept, and when it may credit an order", () => {
  it("keeps the affiliate id and the checkout token's hash only", () => {
    const stored = storedHintOf(parseClickReport(JSON.stringify(REPORT))!);
    expect(stored).toEqual({ affiliateId: "8908369", checkoutTokenHash: checkoutTokenHash(REPORT.checkoutToken) });
    expect(JSON.stringify(stored)).not.toContain(REPORT.checkoutToken);
    expect(JSON.stringify(stored)).not.toContain(REPORT.click.id);
  });

  it("credits an order of the same checkout, or one that names none; not another checkout's", () => {
    const hint = storedHintOf(REPORT);
    expect(clickAffiliateFor({ checkout_token: REPORT.checkoutToken }, [hint])).toBe(8908369);
    expect(clickAffiliateFor({ checkout_token: null }, [hint])).toBe(8908369);
    expect(clickAffiliateFor({}, [hint])).toBe(8908369);
    expect(clickAffiliateFor({ checkout_token: "another" }, [hint])).toBeNull();
    expect(clickAffiliateFor({ checkout_token: REPORT.checkoutToken }, [{ ...hint, checkoutTokenHash: null }])).toBeNull();
    expect(clickAffiliateFor({ checkout_token: REPORT.checkoutToken }, [])).toBeNull();
  });

  it("among several reports, the one naming the order's checkout decides, whatever came first; without a token, the first", () => {
    const forged = { affiliateId: "111", checkoutTokenHash: checkoutTokenHash("chk-wrong") };
    const real = storedHintOf(REPORT);
    expect(clickAffiliateFor({ checkout_token: REPORT.checkoutToken }, [forged, real])).toBe(8908369);
    expect(hintForOrder({ checkout_token: REPORT.checkoutToken }, [forged, real])).toEqual(real);
    expect(clickAffiliateFor({}, [forged, real])).toBe(111);
    expect(unmatchedReportCount({ checkout_token: REPORT.checkoutToken }, [forged, real])).toBe(0);
    expect(unmatchedReportCount({ checkout_token: "chk-other" }, [forged, real])).toBe(2);
    expect(unmatchedReportCount({}, [forged])).toBe(0);
    expect(unmatchedReportCount({ checkout_token: "chk-other" }, [])).toBe(0);
  });
});
