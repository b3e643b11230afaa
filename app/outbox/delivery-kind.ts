/**
 * What a delivery carries to Refersion. An order is the conversion itself; a reversal
 * (a cancellation, or one refund: `refund:<refund id>`) cancels all or part of it through
 * Refersion's REST API and only makes sense once the order itself was delivered.
 */
export type DeliveryKind = "order" | "cancel" | `refund:${string}`;

export const ORDER_KIND = "order";
export const CANCEL_KIND = "cancel";
export const refundKind = (refundId: string): DeliveryKind => `refund:${refundId}`;
/** A refunds/create whose refund could not be read: recorded as failed under this kind. */
export const UNREADABLE_REFUND_KIND = refundKind("unreadable");

export function isReversal(kind: string): boolean {
  return kind === CANCEL_KIND || kind.startsWith("refund:");
}
