import { BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import type { HomeView } from "../admin/home-page.server";
import { DeliveriesChart } from "./DeliveriesChart";
import { StatusBadge } from "./StatusBadge";

/**
 * The last 7 days of orders, by the day the customer placed them (a resent past order counts on
 * its own day), by status, and charted. "Delivered" is what Refersion received; whether an
 * affiliate was credited for it is Refersion's answer, which its conversion webhooks report.
 */
export function HomeActivityCard({ home, logUrl }: { home: HomeView; logUrl: string }) {
  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Last 7 days
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            Orders by the day they were placed, in your store's time zone ({home.timeZone}).
          </Text>
        </BlockStack>
        {/* Each figure as wide as its label, wrapping as a whole: a label never breaks over two lines. */}
        <InlineStack gap="600" wrap>
          {home.lastSevenDays.byStatus.map((entry) => (
            <div key={entry.status} data-testid={`count-${entry.status}`}>
              <BlockStack gap="100">
                <Text as="p" variant="headingLg">
                  {entry.count}
                </Text>
                <InlineStack wrap={false}>
                  <StatusBadge status={entry.status} />
                </InlineStack>
              </BlockStack>
            </div>
          ))}
        </InlineStack>
        <Text as="p" tone="subdued" variant="bodySm">
          Delivered means Refersion received the order. Refersion then decides whether an affiliate is credited for it.
        </Text>
        <DeliveriesChart days={home.chart.days} />
        <InlineStack>
          <Button url={logUrl}>Open the delivery log</Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}
