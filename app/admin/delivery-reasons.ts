import type { DeliveryReason } from "@prisma/client";
import type { ManualRetryRefusal } from "../orders/manual-retry.server";
import type { DeliveryStatus } from "../outbox/delivery-status";

/**
 * The one place where a delivery's reason code becomes a sentence, for the admin's delivery log
 * and the command line. Code never reads these sentences back: rewording one changes what the
 * merchant reads, nothing else. `detail` is the free text stored with the code (Refersion's error,
 * the mapping's message, why a webhook body could not be read).
 * test/repository/reason-codes.unit.test.ts fails when a code of the schema has no sentence here.
 */
export const REASON_SENTENCES: Record<DeliveryReason, (detail: string | null) => string> = {
  uninstalled_on_arrival: () => "The app was uninstalled when this order arrived",
  forwarding_off_on_arrival: () => "Forwarding was switched off when this order arrived",
  test_order: () => "Test order (forwarding test orders is off)",
  zero_value: () => "Zero-value order: there is nothing to credit",
  cancelled_before_resend: () => "The order was cancelled in Shopify before it was resent",
  refunded_before_resend: () => "The order was refunded in full before it was resent",
  voided_before_resend: () => "The order's payment was voided before it was resent",
  unmappable: (detail) => `Shopify's order could not be mapped: ${detail ?? "unknown problem"}`,
  stored_order_unavailable: () => "The stored order is no longer available to map",
  unreadable_webhook: (detail) => detail ?? "Shopify's webhook could not be read",
  secret_unreadable: () =>
    "The saved Refersion secret key cannot be decrypted with the app's encryption key (APP_ENCRYPTION_KEY changed without APP_ENCRYPTION_KEY_PREVIOUS?). Save the keys again in Settings to send this order.",
  uninstalled_before_delivery: () => "The app was uninstalled before this order was delivered",
  forwarding_off_before_delivery: () => "Forwarding was switched off before this order was delivered",
  never_mapped: () => "Nothing to send: the order was never mapped",
  predecessor_not_delivered: () => "The order was never delivered to Refersion, so there is nothing to reverse",
  refersion_unavailable: (detail) => detail ?? "Refersion could not be reached",
  refersion_rejected: (detail) => detail ?? "Refersion rejected it",
  retries_exhausted: (detail) => `Gave up after 72 hours of retries. Last error: ${detail ?? "unknown"}`,
  cancelled_before_paid: () => "The order was cancelled in Shopify before it was paid",
  cancelled_before_sent: () => "The order was cancelled in Shopify before it could be sent",
  cancelled_before_received: () => "The order was cancelled in Shopify before the app received it, so it is never sent",
  awaiting_order: () =>
    "Refunded before the app received the order: it is reversed once the order arrives and is sent (nothing is sent if the order never arrives)",
  cancellations_off: () => "Reversing cancellations is switched off in Settings",
  refunds_off: () => "Reversing refunds is switched off in Settings",
  no_money_refunded: () => "No money was refunded (a restock or a zero-amount refund), so the commission stays",
  no_items_refunded: () => "No items were refunded (shipping or an amount only); Refersion reverses items, so the commission stays",
  sent_order_unreadable: () => "The JSON sent for the order could not be read back, so the reversal cannot be matched to it",
  already_reversed_by_refunds: () => "Every item of the order was already reversed by its refunds",
  refunded_items_not_credited: () =>
    "None of the refunded items is still credited in Refersion (already reversed, or never sent: gift cards, tips, items added after the order was sent)",
  nothing_credited_any_more: () => "Nothing of it is credited in Refersion any more",
};

/** What a due row that runs after another one shows while that one is not delivered yet (data: runsAfterId). */
export const WAITING_FOR_PREDECESSOR = "Waiting for the order itself to be delivered";

/** The sentence for a row's reason, or its bare detail when it has no code; null when it has neither. */
export function describeReason(code: DeliveryReason | null | undefined, detail: string | null | undefined): string | null {
  if (code) return REASON_SENTENCES[code](detail ?? null);
  return detail ?? null;
}

/** The statuses of the outbox as the delivery log and the home page name them. */
export const STATUS_LABELS: Record<DeliveryStatus, string> = {
  waiting_for_keys: "Waiting for keys",
  // Only with the "paid" trigger: recorded at orders/create, released by orders/paid.
  waiting_for_payment: "Waiting for payment",
  pending: "Pending",
  retrying: "Retrying",
  delivered: "Delivered",
  failed: "Failed",
  skipped: "Skipped",
};

export type RefusalTone = "info" | "warning";

/**
 * Why a retry or resend asked by the merchant (the delivery log's button, `npm run -s shop --
 * retry`) queued nothing, in the words both show. `still_skipped` carries the skip's own reason.
 */
export const RETRY_REFUSALS: Record<ManualRetryRefusal, { tone: RefusalTone; sentence: (skipReason: string | null) => string }> = {
  not_found: { tone: "warning", sentence: () => "No delivery of this order was found for the shop." },
  already_queued: { tone: "info", sentence: () => "This order is already queued; it will be sent shortly." },
  waiting_for_keys: { tone: "warning", sentence: () => "This order is waiting for your Refersion keys. Save them in Settings." },
  not_mapped: { tone: "warning", sentence: () => "This order could not be turned into Refersion's format, so there is nothing to send." },
  waiting_for_payment: { tone: "info", sentence: () => "This order is sent once Shopify reports it paid, as your settings ask." },
  cancelled: {
    tone: "warning",
    sentence: () => "This order was cancelled in Shopify, so it is not sent again: Refersion would credit a commission that nothing reverses.",
  },
  reversed: {
    tone: "warning",
    sentence: () => "This order's commission was reversed in Refersion (a cancellation or refund), so it is not resent: that would credit it again.",
  },
  still_skipped: {
    tone: "info",
    sentence: (skipReason) => `This order is still skipped with your current settings: ${skipReason ?? "nothing to send"}.`,
  },
  not_retryable: { tone: "info", sentence: () => "Only a reversal that failed can be tried again." },
};

/** The sentence for a refused retry, with the skip's reason when it is one. */
export function describeRetryRefusal(refusal: { reason: ManualRetryRefusal; reasonCode?: DeliveryReason; reasonDetail?: string }): string {
  // Only a refusal for a skip that still holds carries a reason code.
  return RETRY_REFUSALS[refusal.reason].sentence(describeReason(refusal.reasonCode, refusal.reasonDetail));
}
