import type { LoaderFunctionArgs } from "@remix-run/node";
import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { BlockStack, Button, Card, InlineStack, Page, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useAppHref } from "../components/embedded-links";
import { authenticate } from "../shopify.server";

/**
 * Any address under /app that no page answers: a 404 status, shown as a page of the app inside
 * Shopify's admin (the merchant may have followed an old link or edited the address).
 */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  throw new Response("Page not found", { status: 404 });
};

export default function UnknownPage() {
  return null;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const href = useAppHref();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <Page title="Page not found">
        <Card>
          <div data-testid="not-found">
            <BlockStack gap="300">
              <Text as="p">This page does not exist in the app. The link may be old, or the address mistyped.</Text>
              <InlineStack gap="200">
                <Button url={href("/app")} variant="primary">
                  Go to the app's home
                </Button>
                <Button url={href("/app/deliveries")}>Open the delivery log</Button>
              </InlineStack>
            </BlockStack>
          </div>
        </Card>
      </Page>
    );
  }
  return boundary.error(error);
}
