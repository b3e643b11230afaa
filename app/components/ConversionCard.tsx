import { Badge, BlockStack, Card, InlineStack, Text } from "@shopify/polaris";
import type { ConversionDetailView } from "../admin/conversions-view.server";

/** A delivery's page: what Refersion's conversion webhooks reported for the order. */
export function ConversionCard({ conversion }: { conversion: ConversionDetailView }) {
  const { outcome } = conversion;
  const lines: [string, string | null][] = [
    ["Affiliate", outcome.affiliate],
    ["Commission", outcome.commission],
    ["Order total at Refersion", conversion.total],
    ["Refersion's reason", conversion.deniedReason],
    ["Conversion", conversion.conversionId],
    ["Created at Refersion", conversion.createdAt],
    ["Last updated at Refersion", conversion.updatedAt],
    ["Last webhook received", conversion.receivedAt],
    ["Waiting until", conversion.waitingUntil],
  ];
  return (
    <Card>
      <div data-testid="conversion-card">
        <BlockStack gap="200">
          <InlineStack gap="200" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Refersion&apos;s outcome
            </Text>
            <Badge tone={outcome.tone === "subdued" ? undefined : outcome.tone}>{outcome.label}</Badge>
            {conversion.test ? <Badge>Test conversion</Badge> : null}
          </InlineStack>
          <Text as="p">{conversion.explanation}</Text>
          {lines
            .filter((line): line is [string, string] => line[1] !== null)
            .map(([label, value]) => (
              <Text as="p" key={label}>
                <Text as="span" tone="subdued">
                  {label}:
                </Text>{" "}
                {value}
              </Text>
            ))}
        </BlockStack>
      </div>
    </Card>
  );
}
