import crypto from "node:crypto";

/**
 * AES-256-GCM encryption of secrets at rest. Each value gets a random 96-bit IV and carries
 * its authentication tag; the id of the key that sealed it is stored beside it so that
 * APP_ENCRYPTION_KEY can be rotated (see `npm run -s shop -- rotate-encryption-key`).
 */
const FORMAT = "v1";

export interface SealedSecret {
  ciphertext: string;
  keyId: string;
}

export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

function keyBytes(keyHex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(keyHex)) throw new SecretBoxError("An encryption key must be 64 hexadecimal characters");
  return Buffer.from(keyHex, "hex");
}

/** A short, non-reversible fingerprint naming a key without revealing it. */
export function keyIdOf(keyHex: string): string {
  return crypto.createHash("sha256").update(keyBytes(keyHex)).digest("hex").slice(0, 16);
}

export function sealSecret(plaintext: string, keyHex: string): SealedSecret {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", keyBytes(keyHex), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    ciphertext: [FORMAT, iv.toString("base64url"), tag.toString("base64url"), data.toString("base64url")].join(":"),
    keyId: keyIdOf(keyHex),
  };
}

/** Opens a sealed secret with whichever of the given keys sealed it. */
export function openSecret(sealed: SealedSecret, keysHex: string[]): string {
  const keyHex = keysHex.find((candidate) => keyIdOf(candidate) === sealed.keyId);
  if (!keyHex) {
    throw new SecretBoxError(
      `The secret was encrypted with key ${sealed.keyId}, which is not configured (set APP_ENCRYPTION_KEY_PREVIOUS during a rotation)`,
    );
  }
  const [format, iv, tag, data] = sealed.ciphertext.split(":");
  if (format !== FORMAT || !iv || !tag || data === undefined) throw new SecretBoxError("Unrecognised ciphertext format");
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", keyBytes(keyHex), Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretBoxError("The secret could not be decrypted (wrong key or tampered ciphertext)");
  }
}
