import { Badge, BlockStack, Text } from "@shopify/polaris";
import type { AffiliateCellView, OutcomeTone } from "../admin/conversions-view.server";

const BADGE_TONES: Record<OutcomeTone, "success" | "attention" | "critical" | "info" | undefined> = {
  success: "success",
  attention: "attention",
  critical: "critical",
  info: "info",
  subdued: undefined,
};

/** The delivery log's Affiliate cell: Refersion's outcome for the order, and to whom and for how much. */
export function AffiliateCell({ cell }: { cell: AffiliateCellView | null }) {
  if (!cell) return <>—</>;
  return (
    <BlockStack gap="050" inlineAlign="start">
      <Badge tone={BADGE_TONES[cell.tone]}>{cell.label}</Badge>
      {cell.affiliate ? (
        <Text as="span" variant="bodySm">
          {cell.affiliate}
          {cell.commission ? ` · ${cell.commission}` : ""}
        </Text>
      ) : null}
    </BlockStack>
  );
}
