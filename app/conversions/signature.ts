import crypto from "node:crypto";

/**
 * Refersion signs each merchant webhook with the account's signing secret:
 * `Refersion-Signature` = base64(HMAC-SHA256(raw body, secret)). The check runs on the bytes as
 * received, before anything is parsed, and compares in constant time.
 */
export const SIGNATURE_HEADER = "Refersion-Signature";

/** A base64 SHA-256 digest: 32 bytes, 44 characters with one "=" of padding. */
const BASE64_DIGEST = /^[A-Za-z0-9+/]{43}=$/;

export function signConversionBody(rawBody: Buffer | string, secret: string): string {
  return crypto.createHmac("sha256", secret).update(rawBody).digest("base64");
}

/** Whether `signature` (the header's value, or null when absent) is the body's HMAC under `secret`. */
export function hasValidSignature(rawBody: Buffer, signature: string | null, secret: string): boolean {
  if (signature === null) return false;
  const presented = signature.trim();
  if (!BASE64_DIGEST.test(presented)) return false;
  const expected = crypto.createHmac("sha256", secret).update(rawBody).digest();
  const given = Buffer.from(presented, "base64");
  // Both are 32 bytes here (the pattern guarantees it); timingSafeEqual needs equal lengths.
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
