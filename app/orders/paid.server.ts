import { acceptOrderWebhook, type IntakeResult } from "./intake.server";
import { releaseOrderOnPayment } from "./release.server";

/**
 * orders/paid. With the "paid" trigger, orders/create records an unpaid order as
 * waiting_for_payment and this releases it; with the "created" trigger (the default) it is a
 * backup that records an order whose orders/create never arrived. Either way an order is
 * forwarded once: its outbox row is unique per (shop, order), and the release is a conditional
 * update from waiting_for_payment, so two deliveries (or orders/create and orders/paid arriving
 * together) settle on one row that is sent once.
 */
export async function acceptPaidOrderWebhook(input: { shop: string; payload: unknown; webhookId: string | null }): Promise<IntakeResult> {
  const released = await releaseOrderOnPayment(input.shop, input.payload);
  if (released) return released;
  const recorded = await acceptOrderWebhook({ ...input, source: "orders/paid" });
  if (recorded.outcome !== "duplicate") return recorded;
  // orders/create recorded the order in the meantime, perhaps as waiting for payment.
  return (await releaseOrderOnPayment(input.shop, input.payload)) ?? recorded;
}
