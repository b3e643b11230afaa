import type { DeliveryReason } from "@prisma/client";
import type { RefersionKeys } from "../refersion/client.server";

/**
 * Whether a shop's outbox rows may be sent now, and with which keys; otherwise what the row
 * becomes. Asked by the outbox's worker before each send (once per shop and pass): the shop's
 * state can change after a row was planned (the app uninstalled, forwarding switched off, the
 * encryption key replaced). Declared here so that the outbox knows no domain folder; the
 * shop's settings provide it.
 */
export type DeliveryGate =
  | { open: true; keys: RefersionKeys }
  | { open: false; status: "waiting_for_keys" | "skipped"; reasonCode: DeliveryReason | null };
