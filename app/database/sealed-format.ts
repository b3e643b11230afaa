import { keyIdOf, openSecret, sealSecret } from "./secret-box.server";

/**
 * The format of sealed values; the process's keys are in sealed-values.server.ts. This module
 * reads no environment: the caller gives the key.
 *
 * One value sealed with the secret box, written as a single string so that it fits a text
 * column or a JSON string: `sealed:<keyId>:v1:<iv>:<tag>:<data>`. The key id inside lets the
 * rotation command find values sealed under an older APP_ENCRYPTION_KEY, and lets a reader tell
 * a sealed value from one written before values were sealed (read as it is).
 */
const PREFIX = "sealed:";

// The whole shape, not only the prefix: a buyer's text that merely starts with "sealed:" (a note
// written before notes were dropped) is plain text, sealed like any other value.
const SEALED_SHAPE = /^sealed:[0-9a-f]{16}:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]*$/;

export function isSealed(value: unknown): value is string {
  return typeof value === "string" && SEALED_SHAPE.test(value);
}

/** The id of the key a sealed value was sealed with; null for a value that is not sealed. */
export function sealedKeyId(value: unknown): string | null {
  if (!isSealed(value)) return null;
  const end = value.indexOf(":", PREFIX.length);
  return end < 0 ? null : value.slice(PREFIX.length, end);
}

export function sealValue(plaintext: string, keyHex: string): string {
  const sealed = sealSecret(plaintext, keyHex);
  return `${PREFIX}${sealed.keyId}:${sealed.ciphertext}`;
}

// A leading byte-order mark stays in the text, as the webhook routes' decoder keeps it.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** UTF-8 bytes (a webhook's body as received) sealed as their text, as sealValue seals it. */
export function sealUtf8(bytes: Uint8Array, keyHex: string): string {
  return sealValue(utf8.decode(bytes), keyHex);
}

/** The plaintext of a sealed value; a value that is not sealed (written before) comes back as it is. */
export function openValue(value: string, keysHex: string[]): string {
  if (!isSealed(value)) return value;
  const keyId = sealedKeyId(value) ?? "";
  return openSecret({ keyId, ciphertext: value.slice(PREFIX.length + keyId.length + 1) }, keysHex);
}

/** Whether a stored value should be sealed again under the current key (plain, or under another key). */
export function needsSealing(value: string | null | undefined, currentKeyHex: string): boolean {
  if (value === null || value === undefined) return false;
  return sealedKeyId(value) !== keyIdOf(currentKeyHex);
}
