import { BlockStack, Card, InlineGrid, InlineStack, Text } from "@shopify/polaris";
import type { AttributionSharesView } from "../admin/attribution-labels";
import { countOf } from "../admin/plural";

/** The share of orders per attribution source (cart token, checkout pixel...), for 7 and 30 days. */
export function AttributionSources({ periods }: { periods: AttributionSharesView[] }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          How orders are credited
        </Text>
        <InlineGrid columns={{ xs: 1, sm: periods.length }} gap="400">
          {periods.map((period) => (
            <div key={period.days} data-testid={`attribution-${period.days}`}>
              <BlockStack gap="100">
                <Text as="h3" variant="headingSm">
                  Last {period.days} days ({countOf(period.total, "order")})
                </Text>
                {/* Five rows of "0% (0)" say nothing: one sentence instead. */}
                {period.total === 0 ? (
                  <Text as="p" tone="subdued">
                    No order with a recorded source yet.
                  </Text>
                ) : (
                  period.sources.map((entry) => (
                    <InlineStack key={entry.source} align="space-between">
                      <Text as="span">{entry.label}</Text>
                      <Text as="span" numeric tone={entry.count === 0 ? "subdued" : undefined}>
                        {entry.percent}% ({entry.count})
                      </Text>
                    </InlineStack>
                  ))
                )}
              </BlockStack>
            </div>
          ))}
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}
