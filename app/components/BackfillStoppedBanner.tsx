import { Banner, BlockStack, Text } from "@shopify/polaris";
import type { StoppedBackfillView } from "../admin/home-page.server";
import { countOf } from "../admin/plural";

/**
 * The shop's latest "resend past orders" job stopped because the app's access to the shop needed
 * the merchant. Opening the app renewed that access, but the job does not go on by itself: the
 * merchant is sent to start it again. Starting a new job dismisses this.
 */
export function BackfillStoppedBanner({ stopped, resendUrl }: { stopped: StoppedBackfillView; resendUrl: string }) {
  const range = `${stopped.since} to ${stopped.until ?? "now"}`;
  const progress = `${countOf(stopped.processed, "order")} read, ${stopped.enqueued} queued for Refersion`;
  return (
    <Banner tone="warning" title="Resending past orders stopped" action={{ content: "Resend past orders", url: resendUrl }}>
      <BlockStack gap="200">
        <Text as="p">{`${stopped.reason} Resending your orders from ${range} stopped on ${stopped.stoppedAt} (${progress}).`}</Text>
        <Text as="p">Opening the app has renewed its access. Start again to resend the rest: orders the app already has are not sent again.</Text>
      </BlockStack>
    </Banner>
  );
}
