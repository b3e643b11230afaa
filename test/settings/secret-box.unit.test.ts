import { keyIdOf, openSecret, sealSecret, SecretBoxError } from "~/settings/secret-box.server";

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);

describe("secret box (AES-256-GCM)", () => {
  it("round-trips, with a fresh IV every time and no plaintext in the ciphertext", () => {
    const one = sealSecret("sec_live_123456", KEY_A);
    const two = sealSecret("sec_live_123456", KEY_A);
    expect(one.ciphertext).not.toBe(two.ciphertext);
    expect(one.ciphertext).not.toContain("sec_live");
    expect(one.keyId).toBe(keyIdOf(KEY_A));
    expect(one.keyId).not.toContain(KEY_A.slice(0, 8));
    expect(openSecret(one, [KEY_A])).toBe("sec_live_123456");
  });

  it("opens with whichever configured key sealed it (rotation)", () => {
    const sealed = sealSecret("sec_rotating", KEY_A);
    expect(openSecret(sealed, [KEY_B, KEY_A])).toBe("sec_rotating");
    expect(() => openSecret(sealed, [KEY_B])).toThrow(/not configured/);
  });

  it("refuses a tampered ciphertext", () => {
    const sealed = sealSecret("sec_tamper", KEY_A);
    const parts = sealed.ciphertext.split(":");
    const data = Buffer.from(parts[3], "base64url");
    data[0] ^= 1;
    parts[3] = data.toString("base64url");
    expect(() => openSecret({ ...sealed, ciphertext: parts.join(":") }, [KEY_A])).toThrow(SecretBoxError);
  });

  it("rejects keys that are not 32 bytes of hex", () => {
    expect(() => sealSecret("x", "abc")).toThrow(/64 hexadecimal/);
  });
});
