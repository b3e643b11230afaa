import crypto from "node:crypto";
import type { ConversionReceiver } from "@prisma/client";
import prisma from "../db.server";
import { isUniqueViolation } from "../database/unique-violation";
import { keyIdOf, openSecret, sealSecret } from "../database/secret-box.server";
import { encryptionEnv } from "../env.server";
import { registerSecret } from "../logger.server";
import type { ConversionSettingsForm } from "./settings-form";

/**
 * A shop's receiver of Refersion's conversion webhooks: the URL token (random, stored as it is,
 * shown again on the settings page) and the signing secret (sealed, write-only).
 */

/** 32 random bytes in base64url. */
export const RECEIVER_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const RECEIVER_PATH_PREFIX = "/refersion/conversions/";

export function receiverUrl(appUrl: string, token: string): string {
  return `${appUrl.replace(/\/+$/, "")}${RECEIVER_PATH_PREFIX}${token}`;
}

export async function findConversionReceiver(shop: string): Promise<ConversionReceiver | null> {
  return prisma.conversionReceiver.findUnique({ where: { shop } });
}

/** The shop's receiver, made on first use with a fresh token; two first uses at once get the same one. */
export async function ensureConversionReceiver(shop: string): Promise<ConversionReceiver> {
  const existing = await findConversionReceiver(shop);
  if (existing) return existing;
  try {
    return await prisma.conversionReceiver.create({ data: { shop, token: crypto.randomBytes(32).toString("base64url") } });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return (await findConversionReceiver(shop))!;
  }
}

/** The receiver a request's token names, or null: a token of no shop is indistinguishable from none. */
export async function receiverByToken(token: string): Promise<ConversionReceiver | null> {
  if (!RECEIVER_TOKEN_PATTERN.test(token)) return null;
  return prisma.conversionReceiver.findUnique({ where: { token } });
}

/** The signing secret, opened with whichever configured key sealed it; null when none is saved. Throws SecretBoxError. */
export function signingSecretOf(receiver: Pick<ConversionReceiver, "secretCiphertext" | "secretKeyId">): string | null {
  if (!receiver.secretCiphertext || !receiver.secretKeyId) return null;
  const config = encryptionEnv();
  const keys = [config.APP_ENCRYPTION_KEY, config.APP_ENCRYPTION_KEY_PREVIOUS].filter((key): key is string => Boolean(key));
  const secret = openSecret({ ciphertext: receiver.secretCiphertext, keyId: receiver.secretKeyId }, keys);
  registerSecret(secret);
  return secret;
}

/** Saves the grace period and, when one is given, a new signing secret (sealed). */
export async function saveConversionSettings(shop: string, form: ConversionSettingsForm, now = new Date()): Promise<ConversionReceiver> {
  const receiver = await ensureConversionReceiver(shop);
  const secret = form.signingSecret ? form.signingSecret : null;
  const sealed = secret ? sealSecret(secret, encryptionEnv().APP_ENCRYPTION_KEY) : null;
  return prisma.conversionReceiver.update({
    where: { shop },
    data: {
      graceHours: form.graceHours,
      ...(sealed
        ? { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId, secretLast4: secret!.slice(-4), connectedAt: receiver.connectedAt ?? now }
        : {}),
    },
  });
}

/** A signed webhook arrived: shown as "last received" on the settings page. */
export async function markReceived(shop: string, now: Date): Promise<void> {
  await prisma.conversionReceiver.updateMany({ where: { shop }, data: { lastReceivedAt: now } });
}

/**
 * Seals again, under the current APP_ENCRYPTION_KEY, every signing secret sealed under another
 * configured key (part of `npm run -s shop -- rotate-encryption-key`). A row changed meanwhile is
 * left as the merchant saved it. Returns how many were sealed again and the shops that failed.
 */
export async function rotateSigningSecrets(
  keys: { currentKey: string; previousKeys: string[] } = {
    currentKey: encryptionEnv().APP_ENCRYPTION_KEY,
    previousKeys: [encryptionEnv().APP_ENCRYPTION_KEY_PREVIOUS].filter((key): key is string => Boolean(key)),
  },
): Promise<{ reEncrypted: number; failed: string[] }> {
  const input = keys;
  const currentId = keyIdOf(input.currentKey);
  const rows = await prisma.conversionReceiver.findMany({
    where: { secretCiphertext: { not: null }, NOT: { secretKeyId: currentId } },
    select: { shop: true, secretCiphertext: true, secretKeyId: true },
  });
  const report = { reEncrypted: 0, failed: [] as string[] };
  for (const row of rows) {
    let plaintext: string;
    try {
      plaintext = openSecret({ ciphertext: row.secretCiphertext!, keyId: row.secretKeyId ?? "" }, [input.currentKey, ...input.previousKeys]);
    } catch {
      report.failed.push(row.shop);
      continue;
    }
    const sealed = sealSecret(plaintext, input.currentKey);
    const { count } = await prisma.conversionReceiver.updateMany({
      where: { shop: row.shop, secretCiphertext: row.secretCiphertext },
      data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId },
    });
    report.reEncrypted += count;
  }
  return report;
}
