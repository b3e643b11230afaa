import { encryptionEnv } from "../env.server";

/*
 * The process's sealing keys, from APP_ENCRYPTION_KEY (and APP_ENCRYPTION_KEY_PREVIOUS during a
 * rotation), and the format they seal values in (sealed-format.ts).
 */
export { isSealed, needsSealing, openValue, sealedKeyId, sealUtf8, sealValue } from "./sealed-format";

export interface SealingKeys {
  current: string;
  /** Every key a value may be sealed with: the current one first, then APP_ENCRYPTION_KEY_PREVIOUS. */
  all: string[];
}

/** The process's keys, read when first needed (a process that never seals nor opens needs none). */
export function configuredKeys(): SealingKeys {
  const { APP_ENCRYPTION_KEY, APP_ENCRYPTION_KEY_PREVIOUS } = encryptionEnv();
  return { current: APP_ENCRYPTION_KEY, all: [APP_ENCRYPTION_KEY, ...(APP_ENCRYPTION_KEY_PREVIOUS ? [APP_ENCRYPTION_KEY_PREVIOUS] : [])] };
}
