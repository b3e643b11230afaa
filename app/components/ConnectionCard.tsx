import { useFetcher } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import type { ConnectionView } from "../admin/connection-view";

/** What the routes' actions answer to intent=test_connection. */
export interface ConnectionCheckActionData {
  intent: "test_connection";
  connection: ConnectionView;
}

/**
 * The outcome of the last key check and a button to check again. The check posts
 * intent=test_connection to the page's own action, which tests the saved keys.
 */
export function ConnectionCard({ connection, canTest }: { connection: ConnectionView; canTest: boolean }) {
  const fetcher = useFetcher<ConnectionCheckActionData>();
  const testing = fetcher.state !== "idle";
  const result = fetcher.data?.intent === "test_connection" ? fetcher.data.connection : null;
  const shown = result ?? connection;
  const tested = result !== null;

  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            Connection to Refersion
          </Text>
          <Button
            onClick={() => fetcher.submit({ intent: "test_connection" }, { method: "post" })}
            loading={testing}
            disabled={!canTest}
          >
            Test connection
          </Button>
        </InlineStack>
        <div data-testid="connection-result" data-state={shown.state} aria-live="polite">
          <Banner tone={shown.tone} title={shown.title}>
            <BlockStack gap="100">
              <p>{shown.message}</p>
              {shown.checkedAt ? (
                <Text as="p" variant="bodySm" tone="subdued">
                  {tested ? "Checked just now" : "Last checked"}: {shown.checkedAt}
                </Text>
              ) : null}
            </BlockStack>
          </Banner>
        </div>
      </BlockStack>
    </Card>
  );
}
