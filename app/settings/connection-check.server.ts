import type { ConnectionStatus } from "@prisma/client";
import prisma from "../db.server";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { createRefersionClient, RefersionError } from "../refersion/client.server";
import { SecretBoxError } from "./secret-box.server";
import { getShopSettings, refersionKeysOf } from "./shop-settings.server";

/**
 * The outcomes of "test connection", stored in ShopSettings.connectionStatus (the schema's
 * ConnectionStatus enum):
 * - valid: Refersion's REST API accepted the keys (2xx);
 * - rejected: Refersion said the keys are wrong (401, or a 2xx whose body says so);
 * - plan_unavailable: the API refused for another reason (403 and similar). REST access is
 *   plan-gated, so the webhook keys may still work;
 * - unreachable: no usable answer (network error, timeout, 408/429, 5xx); not stored over "valid"
 *   for the same keys, which no answer can disprove;
 * - secret_unreadable: the saved secret key cannot be decrypted with the configured encryption
 *   keys (APP_ENCRYPTION_KEY changed without its previous value): nothing was asked of Refersion,
 *   and the merchant must enter the secret key again.
 */
export const CONNECTION_STATUSES = ["valid", "rejected", "plan_unavailable", "unreachable", "secret_unreadable"] as const satisfies readonly ConnectionStatus[];
export type { ConnectionStatus };

export type ConnectionCheckResult =
  | { status: "no_keys" }
  | { status: ConnectionStatus; checkedAt: Date; httpStatus: number | null };

const CREDENTIALS_IN_BODY = /credential|api key|unauthori[sz]ed|invalid key/i;

/** Sorts a failed key check into what it tells the merchant. */
export function classifyConnectionFailure(error: unknown): ConnectionStatus {
  if (!(error instanceof RefersionError)) return "unreachable";
  if (error.kind === "network" || error.kind === "timeout") return "unreachable";
  if (error.kind === "error_body") return CREDENTIALS_IN_BODY.test(error.excerpt) ? "rejected" : "plan_unavailable";
  if (error.status === 401) return "rejected";
  if (error.retryable) return "unreachable";
  return "plan_unavailable";
}

export interface ConnectionCheckOptions {
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * Asks Refersion's REST API for one affiliate with the shop's saved keys and records the outcome.
 * The outcome is stored only if the keys are still the ones tested, so a check racing a key
 * change cannot mark the new keys as verified.
 */
export async function checkRefersionConnection(shop: string, options: ConnectionCheckOptions = {}): Promise<ConnectionCheckResult> {
  const settings = await getShopSettings(shop);
  let keys: ReturnType<typeof refersionKeysOf>;
  try {
    keys = refersionKeysOf(settings);
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    const checkedAt = options.now?.() ?? new Date();
    await prisma.shopSettings.updateMany({
      where: { shop, publicKey: settings.publicKey, secretKeyCiphertext: settings.secretKeyCiphertext },
      data: { connectionStatus: "secret_unreadable", connectionCheckedAt: checkedAt },
    });
    logger.warn("refersion connection not checked: the saved secret key cannot be decrypted", { shop });
    return { status: "secret_unreadable", checkedAt, httpStatus: null };
  }
  if (!keys) return { status: "no_keys" };
  const config = env();
  const client = createRefersionClient({
    webhookUrl: config.REFERSION_WEBHOOK_URL,
    apiUrl: config.REFERSION_API_URL,
    keys,
    timeoutMs: config.REFERSION_TIMEOUT_MS,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  let status: ConnectionStatus;
  let httpStatus: number | null;
  try {
    const reply = await client.listAffiliates();
    status = "valid";
    httpStatus = reply.status;
  } catch (error) {
    if (!(error instanceof RefersionError)) throw error;
    status = classifyConnectionFailure(error);
    httpStatus = error.status;
  }

  const checkedAt = options.now?.() ?? new Date();
  await prisma.shopSettings.updateMany({
    where: {
      shop,
      publicKey: settings.publicKey,
      secretKeyCiphertext: settings.secretKeyCiphertext,
      // No answer says nothing about the keys: keys Refersion already accepted stay accepted (the
      // check's answer still says it was unreachable), so the setup guide does not go back a step
      // while Refersion is down.
      ...(status === "unreachable" ? { OR: [{ connectionStatus: null }, { connectionStatus: { not: "valid" as const } }] } : {}),
    },
    data: { connectionStatus: status, connectionCheckedAt: checkedAt },
  });
  logger.info("refersion connection checked", { shop, status, httpStatus });
  return { status, checkedAt, httpStatus };
}
