import type { DeliveryReason } from "@prisma/client";
import type { ManualRetryRefusal } from "../orders/manual-retry.server";
import type { DeliveryStatus } from "../outbox/delivery-status";
import { RETRY_WINDOW_MS } from "../outbox/retry-policy";
import { formatDateTime } from "./format";
import { countOf, pluralForm } from "./plural";

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
  awaiting_click_data: () =>
    "Waiting for click data: the order had no cart the storefront saw (Buy it now, an express button), so it waits a few minutes for the checkout pixel's click before it is sent",
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

/**
 * What Refersion's answer to a failed send was, in classes a merchant can act on. `no_answer`:
 * no HTTP answer at all (a network error or a timeout: the attempt has no status code).
 */
export type RefersionAnswer =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "unprocessable"
  | "rate_limited"
  | "server_error"
  | "no_answer"
  | "other_refusal";

export function refersionAnswerOf(statusCode: number | null | undefined): RefersionAnswer {
  if (statusCode === null || statusCode === undefined) return "no_answer";
  if (statusCode === 400) return "bad_request";
  if (statusCode === 401) return "unauthorized";
  if (statusCode === 403) return "forbidden";
  if (statusCode === 404) return "not_found";
  if (statusCode === 422) return "unprocessable";
  if (statusCode === 429) return "rate_limited";
  if (statusCode >= 500 || statusCode === 408 || statusCode === 425) return "server_error";
  // A 2xx whose body reported an error, and other refusals.
  return "other_refusal";
}

/** Refersion's answers as a merchant reads them: what happened, and what to do about it. */
export const REFERSION_ANSWERS: Record<RefersionAnswer, { reason: string; nextStep: string }> = {
  bad_request: {
    reason: "Refersion refused the order's details as sent.",
    nextStep: "Check the order in Shopify (items, prices, currency). If it looks right, contact the app's support with the technical details below.",
  },
  unauthorized: {
    reason: "Refersion did not accept your keys.",
    nextStep: "Copy the public and secret key again from your Refersion account, save them in Settings, then retry the failed orders.",
  },
  forbidden: {
    reason: "Refersion refused access for your account.",
    nextStep: "Check in Refersion that your account is active and your plan includes order tracking, then retry the failed orders.",
  },
  not_found: {
    reason: "Refersion did not find where to send the order.",
    nextStep: "Check that your Refersion account is active, then retry. If it keeps failing, contact the app's support.",
  },
  unprocessable: {
    reason: "Refersion could not use the order's details.",
    nextStep: "Check the order in Shopify (items, prices, currency). If it looks right, contact the app's support with the technical details below.",
  },
  rate_limited: {
    reason: "Refersion asked the app to slow down (too many orders at once).",
    nextStep: "Nothing to do: the app waits as Refersion asks and sends it again.",
  },
  server_error: {
    reason: "Refersion had a problem on its side.",
    nextStep: "Nothing to do: the app sends it again by itself. If it lasts more than a day, check Refersion's status or contact Refersion.",
  },
  no_answer: {
    reason: "Refersion did not answer in time, or could not be reached.",
    nextStep: "Nothing to do: the app sends it again by itself. If it lasts more than a day, check Refersion's status or contact Refersion.",
  },
  other_refusal: {
    reason: "Refersion refused the order.",
    nextStep: "Retry it once. If it fails again, contact the app's support with the technical details below.",
  },
};

/**
 * A delivery explained to the merchant: the plain reason, whether and until when the app tries
 * again, and the next step. Codes and Refersion's raw words go to `technical`, shown apart.
 */
export interface DeliveryExplanation {
  reason: string;
  /** Whether the app sends it again by itself, and until when; null when there is nothing to send. */
  retry: string | null;
  nextStep: string | null;
  /** Status code and Refersion's or the library's own words, for the details area. */
  technical: string | null;
}

export interface ExplainInput {
  status: DeliveryStatus;
  kind: string;
  reasonCode: DeliveryReason | null;
  reasonDetail: string | null;
  lastStatusCode: number | null;
  firstAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  /** A reversal waiting for its order: whether that order is delivered yet. */
  waitsForPredecessor?: boolean;
  timeZone: string;
}

/** When the app stops trying a row whose first try was at `firstAttemptAt` (retry-policy.ts). */
export function retryUntil(firstAttemptAt: Date): Date {
  return new Date(firstAttemptAt.getTime() + RETRY_WINDOW_MS);
}

/** What a merchant does about a skip, for the codes where there is something to do. */
const SKIP_NEXT_STEPS: Partial<Record<DeliveryReason, string>> = {
  forwarding_off_on_arrival: "Switch forwarding on in Settings, then retry the order to send it.",
  forwarding_off_before_delivery: "Switch forwarding on in Settings, then retry the order to send it.",
  test_order: "To send test orders, switch on \"Forward test orders\" in Settings, then retry it.",
  cancellations_off: "Switch on reversing cancellations in Settings to reverse later ones.",
  refunds_off: "Switch on reversing refunds in Settings to reverse later ones.",
  unmappable: "Contact the app's support with the technical details below.",
  never_mapped: "Contact the app's support with the technical details below.",
  stored_order_unavailable: "Resend it from Resend past orders, which reads it from Shopify again.",
};

const NOT_RESENT = "The app does not send it again by itself.";

/** Refusals about the keys or the Refersion account, not the order: a retry succeeds once the merchant has fixed them. */
const ACCOUNT_REFUSALS: ReadonlySet<RefersionAnswer> = new Set(["unauthorized", "forbidden", "not_found"]);

/** Codes whose table sentence is built around the stored detail: a plain sentence instead (the detail goes to the details area). */
const PLAIN_REASONS: Partial<Record<DeliveryReason, string>> = {
  unmappable: "The app could not turn this Shopify order into what Refersion expects.",
  unreadable_webhook: "Shopify's message about this order could not be read.",
};

function plainReason(code: DeliveryReason | null): string | null {
  return (code && PLAIN_REASONS[code]) ?? describeReason(code, null);
}

function technicalOf(input: ExplainInput): string | null {
  const parts = [
    input.lastStatusCode !== null ? `Refersion's last answer: HTTP ${input.lastStatusCode}` : null,
    input.reasonCode ? `Reason code: ${input.reasonCode}` : null,
    input.reasonDetail,
  ].filter((part): part is string => Boolean(part));
  return parts.length > 0 ? parts.join(" · ") : null;
}

export function explainDelivery(input: ExplainInput): DeliveryExplanation {
  const technical = technicalOf(input);
  const until = input.firstAttemptAt ? formatDateTime(retryUntil(input.firstAttemptAt), input.timeZone) : null;
  const next = formatDateTime(input.nextAttemptAt, input.timeZone);
  const answer = REFERSION_ANSWERS[refersionAnswerOf(input.lastStatusCode)];
  const isOrder = input.kind === "order";

  switch (input.status) {
    case "delivered":
      return {
        reason: isOrder ? "Refersion received this order." : "Refersion received this reversal.",
        retry: null,
        nextStep: null,
        technical,
      };
    case "pending":
      if (input.waitsForPredecessor) {
        return { reason: WAITING_FOR_PREDECESSOR, retry: "It is sent right after the order itself.", nextStep: null, technical };
      }
      return { reason: "Queued: the app sends it to Refersion in a moment.", retry: null, nextStep: null, technical };
    case "retrying":
      if (input.waitsForPredecessor) {
        return { reason: WAITING_FOR_PREDECESSOR, retry: "It is sent right after the order itself.", nextStep: null, technical };
      }
      return {
        reason: answer.reason,
        retry: `The app tries again${next ? ` at ${next}` : ""}${until ? `, and keeps trying until ${until}` : ""}.`,
        nextStep: answer.nextStep,
        technical,
      };
    case "waiting_for_keys":
      if (input.reasonCode === "secret_unreadable") {
        return {
          reason: "The app can no longer read your saved Refersion secret key.",
          retry: "It is sent by itself once the secret key is saved again.",
          nextStep: "Enter your Refersion secret key again in Settings and save it.",
          technical,
        };
      }
      return {
        reason: "Your Refersion keys are not saved yet.",
        retry: "It is sent by itself once the keys are saved.",
        nextStep: "Save your Refersion public and secret key in Settings.",
        technical,
      };
    case "waiting_for_payment":
      return {
        reason: "Your settings send orders once they are paid; Shopify has not reported this one paid yet.",
        retry: "It is sent by itself when Shopify reports the payment.",
        nextStep: null,
        technical,
      };
    case "failed":
      if (input.reasonCode === "retries_exhausted") {
        return {
          reason: `Refersion could not take it for 72 hours. ${answer.reason}`,
          retry: `The app stopped trying${until ? ` on ${until}` : ""}.`,
          nextStep: "Retry it now: when Refersion answers again, it goes through.",
          technical,
        };
      }
      if (input.reasonCode === "refersion_rejected") {
        return {
          reason: answer.reason,
          // Keys and account refusals go through once the merchant fixes them; the order's own details do not change.
          retry: ACCOUNT_REFUSALS.has(refersionAnswerOf(input.lastStatusCode))
            ? `${NOT_RESENT} Sent again before that is fixed, it would be refused the same way.`
            : `${NOT_RESENT} Sending the same again would be refused again.`,
          nextStep: answer.nextStep,
          technical,
        };
      }
      return {
        reason: plainReason(input.reasonCode) ?? "It could not be sent.",
        retry: NOT_RESENT,
        nextStep: (input.reasonCode && SKIP_NEXT_STEPS[input.reasonCode]) ?? "Retry it once. If it fails again, contact the app's support.",
        technical,
      };
    case "skipped":
      return {
        reason: plainReason(input.reasonCode) ?? "The app chose not to send it.",
        retry: "Not sent: nothing is retried.",
        nextStep: (input.reasonCode && SKIP_NEXT_STEPS[input.reasonCode]) ?? null,
        technical,
      };
  }
}

/** The home page's notice of order webhooks the app received but could not act on yet (ReceivedWebhook rows with failed attempts). */
export const RECEIVED_WEBHOOKS_FAILING = {
  title: (count: number) => `${countOf(count, "order webhook")} received from Shopify could not be processed yet; the app keeps trying`,
  detail: (count: number) =>
    `${pluralForm(count, "It is", "They are")} kept and processed as soon as the problem clears; the ${pluralForm(count, "order", "orders")} then ${pluralForm(count, "shows", "show")} in the delivery log. The app's log says what went wrong.`,
};
