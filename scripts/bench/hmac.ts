import crypto from "node:crypto";

/** Shopify's webhook check: base64 HMAC-SHA256 of the raw body, compared in constant time. */
export function hmacMatches(body: Buffer, header: string | string[] | undefined, secret: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return false;
  const expected = crypto.createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(value, "base64");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
