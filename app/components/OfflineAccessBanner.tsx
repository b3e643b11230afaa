import { Banner, BlockStack, Text } from "@shopify/polaris";
import type { OfflineAccessView } from "../admin/home-page.server";

/**
 * The app cannot read the shop's orders from Shopify until the merchant opens it again (which
 * renews its access). Orders arriving by webhook need no access token and are still forwarded.
 */
export function OfflineAccessBanner({ access }: { access: OfflineAccessView }) {
  return (
    <Banner tone="critical" title="The app has lost its access to your shop's orders">
      <BlockStack gap="200">
        <Text as="p">
          {access.message} Since {access.since}, resending past orders cannot read your orders from Shopify. New orders are still forwarded to
          Refersion.
        </Text>
        <Text as="p">Open the app again from your Shopify admin to renew its access. If this message stays, install the app again.</Text>
      </BlockStack>
    </Banner>
  );
}
