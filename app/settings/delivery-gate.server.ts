import type { DeliveryReason } from "@prisma/client";
import { logger } from "../logger.server";
import type { RefersionKeys } from "../refersion/client.server";
import { SecretBoxError } from "./secret-box.server";
import { getShopSettings, refersionKeysOf } from "./shop-settings.server";

/**
 * Whether a shop's outbox rows may be sent now, and with which keys; otherwise what the row
 * becomes. Asked by the outbox's worker before each send (once per shop and pass): the shop's
 * state can change after a row was planned (the app uninstalled, forwarding switched off, the
 * encryption key replaced).
 */
export type DeliveryGate =
  | { open: true; keys: RefersionKeys }
  | { open: false; status: "waiting_for_keys" | "skipped"; reasonCode: DeliveryReason | null };

export async function deliveryGateFor(shop: string): Promise<DeliveryGate> {
  const settings = await getShopSettings(shop);
  let keys: RefersionKeys | null;
  try {
    keys = refersionKeysOf(settings);
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    // Retrying cannot help until the keys are saved again (which releases waiting orders), and
    // the merchant must see why rather than an order pending for ever.
    logger.error("the shop's secret key cannot be decrypted", { shop, error: error.message });
    return { open: false, status: "waiting_for_keys", reasonCode: "secret_unreadable" };
  }
  if (settings.uninstalledAt) return { open: false, status: "skipped", reasonCode: "uninstalled_before_delivery" };
  if (!settings.forwardingEnabled) return { open: false, status: "skipped", reasonCode: "forwarding_off_before_delivery" };
  if (!keys) return { open: false, status: "waiting_for_keys", reasonCode: null };
  return { open: true, keys };
}
