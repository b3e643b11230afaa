import type { ConversionStatus } from "@prisma/client";
import type { ConversionReport } from "./payload";

/**
 * What Refersion made of an order, from the conversions its webhooks reported, and which of two
 * reports of one conversion stands. Pure: the clock is an argument.
 */

export const HOUR_MS = 3_600_000;

/** A decision (approved or denied) outranks pending when times cannot tell the order apart. */
const RANK: Record<ConversionStatus, number> = { pending: 0, approved: 1, denied: 1 };

export type ConversionVersion = Pick<ConversionReport, "status" | "refersionCreatedAt" | "refersionUpdatedAt">;

/**
 * Whether an incoming report of a conversion replaces the stored one. Refersion's "updated" time
 * decides (its "created" when no "updated" was sent): the later one stands, so a pending report
 * arriving after the approval it preceded changes nothing. Equal or unknown times: a decision
 * replaces pending, nothing else replaces anything (a repeat changes nothing).
 */
export function replacesStored(stored: ConversionVersion, incoming: ConversionVersion): boolean {
  const storedAt = (stored.refersionUpdatedAt ?? stored.refersionCreatedAt)?.getTime();
  const incomingAt = (incoming.refersionUpdatedAt ?? incoming.refersionCreatedAt)?.getTime();
  if (storedAt !== undefined && incomingAt !== undefined && storedAt !== incomingAt) return incomingAt > storedAt;
  return RANK[incoming.status] > RANK[stored.status];
}

/** A stored conversion, as outcomes read it: what its latest report said, and when that arrived. */
export type ConversionFacts = Omit<ConversionReport, "orderId"> & { receivedAt: Date };

export interface ReceiverFacts {
  /** When the signing secret was first saved; null: conversion webhooks are not connected. */
  connectedAt: Date | null;
  graceHours: number;
}

export interface ForwardedOrderFacts {
  /** The outbox row of the order itself (kind "order"), or null when the app never recorded it. */
  status: string;
  deliveredAt: Date | null;
}

export type OrderOutcome =
  /** Refersion credited an affiliate; pending until the merchant (or auto-approval) decides. */
  | { kind: "credited"; conversion: ConversionFacts }
  /** Refersion denied the conversion (a reversal the app sent shows up here too). */
  | { kind: "denied"; conversion: ConversionFacts }
  /** Delivered, connected, the grace period passed and no conversion came: no affiliate click matched. */
  | { kind: "no_affiliate_click" }
  /** Delivered and connected, within the grace period: Refersion may still report a conversion. */
  | { kind: "waiting"; until: Date }
  /** Delivered before conversion webhooks were connected: the app cannot know. */
  | { kind: "before_connection" }
  /** Conversion webhooks are not connected. */
  | { kind: "not_connected" }
  /** The order did not reach Refersion (yet): nothing to credit. */
  | { kind: "not_delivered" };

export type OrderOutcomeKind = OrderOutcome["kind"];

const latestFirst = (a: ConversionFacts, b: ConversionFacts) => timeOf(b) - timeOf(a);
function timeOf(conversion: ConversionFacts): number {
  return (conversion.refersionUpdatedAt ?? conversion.refersionCreatedAt ?? conversion.receivedAt).getTime();
}

/**
 * An order's outcome. A conversion decides whatever the outbox says (it may arrive before the
 * delivery is recorded, or for an order sent some other way); a credited conversion outranks a
 * denied one of the same order. Without one, time since delivery against the grace period does.
 */
export function orderOutcome(input: {
  order: ForwardedOrderFacts | null;
  conversions: readonly ConversionFacts[];
  receiver: ReceiverFacts | null;
  now: Date;
}): OrderOutcome {
  const sorted = [...input.conversions].sort(latestFirst);
  const credited = sorted.find((conversion) => conversion.status !== "denied");
  if (credited) return { kind: "credited", conversion: credited };
  if (sorted[0]) return { kind: "denied", conversion: sorted[0] };

  const deliveredAt = input.order?.status === "delivered" ? input.order.deliveredAt : null;
  if (!deliveredAt) return { kind: "not_delivered" };
  if (!input.receiver?.connectedAt) return { kind: "not_connected" };
  if (deliveredAt < input.receiver.connectedAt) return { kind: "before_connection" };
  const until = new Date(deliveredAt.getTime() + input.receiver.graceHours * HOUR_MS);
  return input.now < until ? { kind: "waiting", until } : { kind: "no_affiliate_click" };
}
