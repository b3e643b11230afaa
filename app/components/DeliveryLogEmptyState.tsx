import { BlockStack, Box, Text } from "@shopify/polaris";
import type { DeliveryStatus } from "../outbox/delivery-status";

/** What an empty tab of the delivery log means; for some tabs (Failed, Retrying) it is good news. */
const EMPTY_TAB: Record<DeliveryStatus | "all" | "filtered", { title: string; detail: string }> = {
  filtered: { title: "No orders match", detail: "No order matches this order number or date range. Clear the search or the filter to see every order." },
  all: { title: "No orders here yet", detail: "Orders appear here as soon as Shopify sends them to the app." },
  waiting_for_keys: { title: "No orders waiting for keys", detail: "Orders wait here only while your Refersion keys are not saved." },
  waiting_for_payment: { title: "No orders waiting for payment", detail: "With orders sent when paid, unpaid orders wait here until Shopify marks them paid." },
  pending: { title: "Nothing queued", detail: "Every order received has been sent or settled." },
  retrying: { title: "Nothing to retry", detail: "No order is waiting for another attempt." },
  delivered: { title: "No orders delivered yet", detail: "Orders Refersion accepted appear here." },
  failed: { title: "No failed orders", detail: "Good news: no order has failed. Orders Refersion refuses for good would appear here, with a Retry button." },
  skipped: { title: "No skipped orders", detail: "Orders the app chose not to send (for example test orders) appear here." },
};

export function DeliveryLogEmptyState({ tab }: { tab: DeliveryStatus | "all" | "filtered" }) {
  const words = EMPTY_TAB[tab];
  return (
    <Box padding="600">
      <BlockStack gap="200" inlineAlign="center">
        <Text as="p" variant="headingMd">
          {words.title}
        </Text>
        <Text as="p" tone="subdued">
          {words.detail}
        </Text>
      </BlockStack>
    </Box>
  );
}
