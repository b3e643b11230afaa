import { logger } from "../logger.server";
import type { DeliveryGate } from "../outbox/delivery-gate";
import type { RefersionKeys } from "../refersion/client.server";
import { SecretBoxError } from "./secret-box.server";
import { getShopSettings, refersionKeysOf } from "./shop-settings.server";

/** The outbox's delivery gate, read from the shop's settings before each send. */
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
