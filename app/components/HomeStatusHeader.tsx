import { Badge, Banner, BlockStack, Box, Card, InlineGrid, InlineStack, Text } from "@shopify/polaris";
import type { AttentionItem, StatusHeaderView } from "../admin/home-page.server";
import { useAppHref } from "./embedded-links";

/** "Is it working?": tracking live or not, this week's orders sent and their value, and what needs the merchant. */
export function HomeStatusHeader({ status, attention }: { status: StatusHeaderView; attention: AttentionItem[] }) {
  const href = useAppHref();
  return (
    <BlockStack gap="400">
      <Card>
        <BlockStack gap="400">
          <div data-testid="tracking-status" data-live={status.live ? "yes" : "no"}>
            <BlockStack gap="100">
              <InlineStack gap="200" blockAlign="center">
                <Text as="h2" variant="headingLg">
                  {status.headline}
                </Text>
                {/* The words say it too: colour is never the only signal. */}
                <Badge tone={status.live ? "success" : "critical"}>{status.live ? "Live" : "Not live"}</Badge>
              </InlineStack>
              {status.why ? (
                <Text as="p" tone="subdued">
                  {status.why}
                </Text>
              ) : null}
            </BlockStack>
          </div>
          <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
            <Metric testId="metric-sent" label="Sent to Refersion, last 7 days" value={String(status.sentThisWeek)} />
            <Metric testId="metric-value" label="Order value forwarded, last 7 days" value={status.valueForwarded ?? "—"} />
            <Metric testId="metric-attention" label="Orders needing attention" value={String(status.needsAttention)} />
          </InlineGrid>
        </BlockStack>
      </Card>
      {attention.map((item) => (
        <div key={item.id} data-testid={`attention-${item.id}`}>
          <Banner
            tone={item.tone}
            title={item.title}
            action={
              item.action === null
                ? undefined
                : "app" in item.action
                  ? { content: item.action.content, url: href(item.action.app.path, item.action.app.query) }
                  : // The theme editor is part of Shopify's admin, outside the app's frame.
                    { content: item.action.content, url: item.action.external, target: "_top" }
            }
          >
            <p>{item.detail}</p>
          </Banner>
        </div>
      ))}
    </BlockStack>
  );
}

function Metric({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Box data-testid={testId}>
      <BlockStack gap="100">
        <Text as="p" variant="bodySm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="headingLg">
          {value}
        </Text>
      </BlockStack>
    </Box>
  );
}
