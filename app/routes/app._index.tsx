import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, BlockStack, Button, Card, InlineGrid, InlineStack, Layout, Page, Text } from "@shopify/polaris";
import { HomeActionSchema, loadHomePage } from "../admin/home-page.server";
import { testConnectionFromAdmin } from "../admin/settings-page.server";
import { BackfillStoppedBanner } from "../components/BackfillStoppedBanner";
import { ConnectionCard } from "../components/ConnectionCard";
import { DeliveriesChart } from "../components/DeliveriesChart";
import { useAppHref } from "../components/embedded-links";
import { SetupChecklist } from "../components/SetupChecklist";
import { StatusBadge } from "../components/StatusBadge";
import { env } from "../env.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  return loadHomePage({ shop: session.shop, graphql: admin.graphql, apiKey: env().SHOPIFY_API_KEY });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const intent = HomeActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!intent.success) throw new Response("Unknown action", { status: 400 });
  return { intent: "test_connection" as const, connection: await testConnectionFromAdmin(session.shop) };
};

export default function Home() {
  const home = useLoaderData<typeof loader>();
  const href = useAppHref();

  return (
    <Page title="Refersion order forwarding">
      <Layout>
        {home.stoppedBackfill ? (
          <Layout.Section>
            <BackfillStoppedBanner stopped={home.stoppedBackfill} resendUrl={href("/app/backfill")} />
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <SetupChecklist steps={home.steps} completed={home.completedSteps} embed={home.embed} settingsUrl={href("/app/settings")} />
            <ConnectionCard connection={home.connection} canTest={home.hasKeys} />
          </BlockStack>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="400">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Last 7 days
                </Text>
                {home.forwardingEnabled ? null : <Badge tone="warning">Forwarding is off</Badge>}
              </InlineStack>
              <InlineGrid columns={{ xs: 2, sm: 4, md: 7 }} gap="300">
                {home.lastSevenDays.byStatus.map((entry) => (
                  <div key={entry.status} data-testid={`count-${entry.status}`}>
                    <BlockStack gap="100">
                      <Text as="p" variant="headingLg">
                        {entry.count}
                      </Text>
                      <InlineStack>
                        <StatusBadge status={entry.status} />
                      </InlineStack>
                    </BlockStack>
                  </div>
                ))}
              </InlineGrid>
              <DeliveriesChart days={home.chart.days} />
              <InlineStack>
                <Button url={href("/app/deliveries")}>Open the delivery log</Button>
              </InlineStack>
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
