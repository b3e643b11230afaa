import { jsonColumnNeedsSealing, openJsonColumn, sealJsonColumn } from "../../app/database/sealed-columns.server";
import { isSealed, openValue, sealValue, sealedKeyId } from "../../app/database/sealed-values.server";
import { keyIdOf } from "../../app/database/secret-box.server";

const KEY = "0f".repeat(32);
const OTHER = "e1".repeat(32);

describe("sealed values", () => {
  it("round-trip, carry their key id, and are told from plain text by their whole shape", () => {
    const sealed = sealValue("adaline.quenby@mail.example.com", KEY);
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe(keyIdOf(KEY));
    expect(openValue(sealed, [OTHER, KEY])).toBe("adaline.quenby@mail.example.com");
    expect(() => openValue(sealed, [OTHER])).toThrow(/not configured/);
    for (const text of ["sealed:", "sealed:abc", "sealed:0123456789abcdef:v1:x:y:z", "shpat_0123"]) {
      expect(isSealed(text)).toBe(false);
      expect(openValue(text, [KEY])).toBe(text);
    }
  });

  it("in a JSON column: only the personal parts, each whole; text that looks sealed but is not is sealed too", () => {
    const order = { id: 1, total_price: "10.00", email: "a@b.example", note: "sealed:not really", customer: { id: 7, first_name: "Ada" }, phone: null };
    const text = sealJsonColumn(JSON.stringify(order), KEY);
    const stored = JSON.parse(text);
    expect(stored).toMatchObject({ id: 1, total_price: "10.00", phone: null });
    for (const key of ["email", "note", "customer"]) expect(isSealed(stored[key]), key).toBe(true);
    expect(text).not.toContain("Ada");
    expect(JSON.parse(openJsonColumn(text, [KEY]))).toEqual(order);
    expect(jsonColumnNeedsSealing(text, KEY)).toBe(false);
    expect(jsonColumnNeedsSealing(text, OTHER)).toBe(true);
    expect(jsonColumnNeedsSealing(JSON.stringify(order), KEY)).toBe(true);
    // Sealing again changes nothing; text that is not a JSON object is left as it is.
    expect(sealJsonColumn(text, KEY)).toBe(text);
    for (const other of ["not json", "[1,2]", "null"]) expect(sealJsonColumn(other, KEY)).toBe(other);
  });
});
