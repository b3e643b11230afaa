import { SettingsFormSchema, fieldErrorsOf } from "~/settings/settings-form";

const valid = {
  publicKey: "  pub_abc123  ",
  secretKey: " sec_xyz789 ",
  forwardingEnabled: "on",
  currency: "shop",
  forwardTestOrders: undefined,
  sendCustomerDetails: "on",
  autoCreditAffiliate: undefined,
};

describe("settings form schema (shared by the browser and the server)", () => {
  it("trims keys and reads checkboxes as HTML forms send them", () => {
    const parsed = SettingsFormSchema.parse(valid);
    expect(parsed).toMatchObject({
      publicKey: "pub_abc123",
      secretKey: "sec_xyz789",
      forwardingEnabled: true,
      forwardTestOrders: false,
      sendCustomerDetails: true,
      autoCreditAffiliate: false,
    });
    expect(parsed.reverseRefunds).toBeUndefined();
  });

  it("reports one message per invalid field", () => {
    const result = SettingsFormSchema.safeParse({ ...valid, publicKey: "   ", secretKey: "has spaces inside", currency: "EUR" });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(fieldErrorsOf(result.error)).toEqual({
      publicKey: "Enter your Refersion public key",
      secretKey: "The secret key has a space or line break in it: copy it again from Refersion, without spaces",
      currency: "Choose the shop's currency or the buyer's",
    });
  });

  it("tells a secret key with other characters from one with spaces", () => {
    const result = SettingsFormSchema.safeParse({ ...valid, secretKey: "sk_live$1234567890" });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(fieldErrorsOf(result.error).secretKey).toBe("A Refersion secret key has only letters, digits, _ and -: copy it again from Refersion");
  });
});
