/** The delivery log's date filter: received within the last N of the shop's days, today included. */
export const DELIVERY_LOG_RANGES = ["today", "7d", "30d", "90d"] as const;
export type DeliveryLogRange = (typeof DELIVERY_LOG_RANGES)[number];

export const RANGE_DAYS: Record<DeliveryLogRange, number> = { today: 1, "7d": 7, "30d": 30, "90d": 90 };

export const RANGE_LABELS: Record<DeliveryLogRange, string> = {
  today: "Today",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  "90d": "Last 90 days",
};
