import prisma from "../db.server";
import { encryptionEnv } from "../env.server";
import { logger } from "../logger.server";
import { keyIdOf, openSecret, sealSecret } from "./secret-box.server";

export interface KeyRotationReport {
  /** The id (fingerprint) of the key every secret is now sealed with. */
  keyId: string;
  /** Shops with a stored secret. */
  examined: number;
  /** Secrets opened with an older key and sealed again with the current one. */
  reEncrypted: number;
  /** Secrets already sealed with the current key. */
  alreadyCurrent: number;
  /** Secrets that could not be opened with any configured key; they are left as they were. */
  failed: { shop: string; keyId: string | null; reason: string }[];
}

/**
 * Re-encrypts every shop's Refersion secret that was sealed with a key other than the current
 * APP_ENCRYPTION_KEY: opened with whichever configured key sealed it (the previous key during a
 * rotation), sealed again with the current key. Each row is written only if it still holds the
 * ciphertext that was read, so a merchant saving new keys meanwhile is never overwritten. Safe
 * to run again: secrets already under the current key are left alone.
 */
export async function rotateEncryptionKey(
  input: {
    currentKey?: string;
    previousKeys?: string[];
    /** Runs between reading the secrets and writing the first one (tests: a merchant's save landing then). */
    afterRead?: () => Promise<unknown>;
  } = {},
): Promise<KeyRotationReport> {
  const currentKey = input.currentKey ?? encryptionEnv().APP_ENCRYPTION_KEY;
  const previousKeys = input.previousKeys ?? [encryptionEnv().APP_ENCRYPTION_KEY_PREVIOUS].filter((key): key is string => Boolean(key));
  const currentId = keyIdOf(currentKey);
  const report: KeyRotationReport = { keyId: currentId, examined: 0, reEncrypted: 0, alreadyCurrent: 0, failed: [] };

  const rows = await prisma.shopSettings.findMany({
    where: { secretKeyCiphertext: { not: null } },
    select: { shop: true, secretKeyCiphertext: true, secretKeyKeyId: true },
    orderBy: { shop: "asc" },
  });
  await input.afterRead?.();
  for (const row of rows) {
    report.examined += 1;
    if (row.secretKeyKeyId === currentId) {
      report.alreadyCurrent += 1;
      continue;
    }
    let plaintext: string;
    try {
      plaintext = openSecret({ ciphertext: row.secretKeyCiphertext!, keyId: row.secretKeyKeyId ?? "" }, [currentKey, ...previousKeys]);
    } catch (error) {
      report.failed.push({ shop: row.shop, keyId: row.secretKeyKeyId, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const sealed = sealSecret(plaintext, currentKey);
    const { count } = await prisma.shopSettings.updateMany({
      where: { shop: row.shop, secretKeyCiphertext: row.secretKeyCiphertext },
      data: { secretKeyCiphertext: sealed.ciphertext, secretKeyKeyId: sealed.keyId },
    });
    if (count === 1) {
      report.reEncrypted += 1;
      continue;
    }
    // Changed meanwhile: a merchant saved a new secret (sealed with the current key), or the shop was erased.
    const now = await prisma.shopSettings.findUnique({ where: { shop: row.shop }, select: { secretKeyKeyId: true } });
    if (now?.secretKeyKeyId === currentId) report.alreadyCurrent += 1;
  }

  logger.info("encryption key rotation", {
    keyId: currentId,
    examined: report.examined,
    reEncrypted: report.reEncrypted,
    alreadyCurrent: report.alreadyCurrent,
    failed: report.failed.length,
  });
  for (const failure of report.failed) {
    logger.error("secret could not be re-encrypted", { shop: failure.shop, keyId: failure.keyId, reason: failure.reason });
  }
  return report;
}
