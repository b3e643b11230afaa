import { Badge } from "@shopify/polaris";
import { STATUS_LABELS } from "../admin/delivery-reasons";
import type { DeliveryStatus } from "../outbox/delivery-status";

type Tone = "success" | "critical" | "warning" | "attention" | "info" | undefined;

const TONES: Record<DeliveryStatus, Tone> = {
  delivered: "success",
  failed: "critical",
  retrying: "warning",
  pending: "info",
  waiting_for_keys: "attention",
  waiting_for_payment: "attention",
  skipped: undefined,
};

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <Badge tone={TONES[status]}>{STATUS_LABELS[status]}</Badge>;
}
