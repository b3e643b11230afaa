import {
  BlockStack,
  Box,
  Button,
  Card,
  InlineGrid,
  InlineStack,
  Text,
} from "@shopify/polaris";
import type { AttributionView } from "../admin/conversions-view.server";

/**
 * Home: what Refersion made of the orders the app forwarded, from its conversion webhooks: for
 * the last 7 and 30 days, orders forwarded and credited, the attribution rate and the commission
 * by status. Without conversion webhooks, what the merchant is missing and how to connect them.
 */
export function ConversionOutcomes({
  view,
  settingsUrl,
}: {
  view: AttributionView;
  settingsUrl: string;
}) {
  if (!view.connected) {
    return (
      <Card>
        <div data-testid="conversion-outcomes-not-connected">
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              Which orders earned a commission
            </Text>
            <Text as="p">
              Connect Refersion&apos;s conversion webhooks to see, for every
              delivered order, whether an affiliate was credited (and who, for
              how much), the commission was denied, or there was no affiliate
              click, and your attribution rate.
            </Text>
            <Text as="p" tone="subdued">
              In Settings, copy the conversion webhook URL into Refersion
              (Account &gt; Settings &gt; Webhooks) and save Refersion&apos;s
              signing secret.
            </Text>
            <InlineStack>
              <Button url={settingsUrl}>Connect conversion webhooks</Button>
            </InlineStack>
          </BlockStack>
        </div>
      </Card>
    );
  }
  return (
    <Card>
      <div data-testid="conversion-outcomes">
        <BlockStack gap="400">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Credited by Refersion
            </Text>
            <Text as="p" tone="subdued">
              Last conversion webhook: {view.lastReceived ?? "none yet"}
            </Text>
          </InlineStack>
          <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
            {view.periods.map((period) => (
              <Box
                key={period.days}
                padding="300"
                background="bg-surface-secondary"
                borderRadius="200"
              >
                <div data-testid={`conversion-outcomes-${period.days}`}>
                  <BlockStack gap="200">
                    <Text as="h3" variant="headingSm">
                      Last {period.days} days
                    </Text>
                    <InlineGrid columns={3} gap="200">
                      <Figure
                        label="Orders forwarded"
                        value={String(period.forwarded)}
                        testId="forwarded"
                      />
                      <Figure
                        label="Orders credited"
                        value={String(period.credited)}
                        testId="credited"
                      />
                      <Figure
                        label="Attribution rate"
                        value={period.rate ?? "—"}
                        testId="rate"
                      />
                    </InlineGrid>
                    <Text as="p" tone="subdued">
                      {period.denied} denied · {period.noClick} without an
                      affiliate click · {period.waiting} waiting for Refersion
                      {period.beforeConnection > 0
                        ? ` · ${period.beforeConnection} sent before conversion webhooks were connected (not in the rate)`
                        : ""}
                    </Text>
                    <BlockStack gap="050">
                      {period.commission.map((entry) => (
                        <InlineStack key={entry.status} align="space-between">
                          <Text as="span">
                            Commission {entry.label.toLowerCase()}
                          </Text>
                          <Text as="span" numeric>
                            <span data-testid={`commission-${entry.status}`}>
                              {entry.amounts.length > 0
                                ? entry.amounts.join(" + ")
                                : "—"}
                            </span>
                          </Text>
                        </InlineStack>
                      ))}
                    </BlockStack>
                  </BlockStack>
                </div>
              </Box>
            ))}
          </InlineGrid>
        </BlockStack>
      </div>
    </Card>
  );
}

function Figure({
  label,
  value,
  testId,
}: {
  label: string;
  value: string;
  testId: string;
}) {
  return (
    <BlockStack gap="050">
      <Text as="p" variant="headingLg">
        <span data-testid={`figure-${testId}`}>{value}</span>
      </Text>
      <Text as="p" tone="subdued">
        {label}
      </Text>
    </BlockStack>
  );
}
