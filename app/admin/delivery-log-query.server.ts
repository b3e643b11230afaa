import { z } from "zod";
import { DELIVERY_STATUSES } from "../outbox/delivery-status";
import { DELIVERY_LOG_RANGES } from "./delivery-log-ranges";
import { AFFILIATE_FILTERS } from "../conversions/order-outcomes.server";

// The delivery routes validate with these in their loader and action only. As a .server module
// this file, and zod with it, stays out of the pages' browser bundles.

/**
 * The delivery log's URL search parameters. Anything unexpected falls back to the default
 * (all statuses, first page) rather than failing: these are links a merchant may have edited.
 */
export const DeliveryLogSearchSchema = z.object({
  status: z.enum(DELIVERY_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  /** An order number, with or without its "#". */
  q: z
    .string()
    .transform((value) => value.trim().replace(/^#/, "").slice(0, 64))
    .optional()
    .catch(undefined),
  /** Received within this many of the shop's days, today included. */
  range: z.enum(DELIVERY_LOG_RANGES).optional().catch(undefined),
  /** What Refersion's conversion webhooks reported: credited, not credited, denied. */
  affiliate: z.enum(AFFILIATE_FILTERS).optional().catch(undefined),
});

export type DeliveryLogSearch = z.output<typeof DeliveryLogSearchSchema>;

export function parseDeliveryLogSearch(params: URLSearchParams): DeliveryLogSearch {
  return DeliveryLogSearchSchema.parse({
    status: params.get("status") ?? undefined,
    page: params.get("page") ?? undefined,
    q: params.get("q") || undefined,
    range: params.get("range") ?? undefined,
    affiliate: params.get("affiliate") ?? undefined,
  });
}

/** A delivery id as it appears in a URL (cuid); anything else cannot be one of ours. */
export const DeliveryIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** The delivery log's form: "Retry all failed". */
export const DeliveryLogActionSchema = z.object({ intent: z.literal("retry_all_failed") });

/** The delivery detail page's form: one button, retry (failed/skipped) or resend (delivered). */
export const DeliveryActionSchema = z.object({ intent: z.literal("retry") });
