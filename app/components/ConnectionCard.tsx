import { useFetcher } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import type { ConnectionView } from "../admin/connection-view";

/** What the routes' actions answer to intent=test_connection. */
export interface ConnectionCheckActionData {
  intent: "test_connection";
  connection: ConnectionView;
}

function sameOutcome(a: ConnectionView, b: ConnectionView): boolean {
  return a.state === b.state && a.checkedAt === b.checkedAt;
}

export interface ConnectionCheckProps {
  connection: ConnectionView;
  canTest: boolean;
  /** The keys in the form differ from the saved ones, which the check would test. */
  unsavedKeyEdits?: boolean;
  /** An outcome the page itself just produced (saving new keys tests them). */
  justChecked?: ConnectionView | null;
  /** Told when the merchant starts a check, so the page can drop messages about earlier actions. */
  onTest?: () => void;
}

/**
 * The outcome of the last key check and a button to check again. The check posts
 * intent=test_connection to the page's own action, which tests the saved keys.
 */
export function ConnectionCheck({ connection, canTest, unsavedKeyEdits = false, justChecked = null, onTest }: ConnectionCheckProps) {
  const fetcher = useFetcher<ConnectionCheckActionData>();
  const testing = fetcher.state !== "idle";
  const result = fetcher.data?.intent === "test_connection" ? fetcher.data.connection : justChecked;
  // The saved outcome is what the page shows. A check's own answer only marks it as just done,
  // and only while the saved outcome is still the one it produced: saving new keys resets the
  // saved outcome, and an older answer must not keep saying "Keys valid".
  const tested = result !== null && sameOutcome(result, connection);

  return (
    <BlockStack gap="300">
      <InlineStack align="space-between" blockAlign="center" gap="200">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Connection to Refersion
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            {unsavedKeyEdits ? "Save your changes to the keys first: the test uses the saved keys." : "Tests the saved keys with Refersion's API."}
          </Text>
        </BlockStack>
        <Button
          onClick={() => {
            onTest?.();
            fetcher.submit({ intent: "test_connection" }, { method: "post" });
          }}
          loading={testing}
          disabled={!canTest || unsavedKeyEdits}
        >
          Test connection
        </Button>
      </InlineStack>
      <div data-testid="connection-result" data-state={connection.state} aria-live="polite">
        <Banner tone={connection.tone} title={connection.title}>
          <BlockStack gap="100">
            <p>{connection.message}</p>
            {connection.checkedAt ? (
              <Text as="p" variant="bodySm" tone="subdued">
                {tested ? "Checked just now" : "Last checked"}: {connection.checkedAt}
              </Text>
            ) : null}
          </BlockStack>
        </Banner>
      </div>
    </BlockStack>
  );
}

/** The key check in a card of its own (Home); Settings shows it inside the keys' card. */
export function ConnectionCard(props: ConnectionCheckProps) {
  return (
    <Card>
      <ConnectionCheck {...props} />
    </Card>
  );
}
