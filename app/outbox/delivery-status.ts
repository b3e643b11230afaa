/** The states of a delivery in the outbox, as the merchant sees them in the delivery log. */
export const DELIVERY_STATUSES = ["waiting_for_keys", "waiting_for_payment", "pending", "retrying", "delivered", "failed", "skipped"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** States the worker picks up when they are due. */
export const DUE_STATUSES: DeliveryStatus[] = ["pending", "retrying"];

export function isDeliveryStatus(value: unknown): value is DeliveryStatus {
  return typeof value === "string" && (DELIVERY_STATUSES as readonly string[]).includes(value);
}
