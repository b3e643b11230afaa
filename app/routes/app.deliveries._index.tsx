import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData, useNavigate, useNavigation } from "@remix-run/react";
import { BlockStack, Card, IndexTable, Link, Page, Pagination, Tabs, Text } from "@shopify/polaris";
import { loadDeliveryLog } from "../admin/deliveries-page.server";
import { parseDeliveryLogSearch } from "../admin/delivery-log-query.server";
import { DeliveryLogEmptyState } from "../components/DeliveryLogEmptyState";
import { useAppHref } from "../components/embedded-links";
import { StatusBadge } from "../components/StatusBadge";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = parseDeliveryLogSearch(new URL(request.url).searchParams);
  return loadDeliveryLog(session.shop, search);
};

export default function DeliveryLog() {
  const log = useLoaderData<typeof loader>();
  const href = useAppHref();
  const navigate = useNavigate();
  // Switching tabs or pages loads this route again: show it on the table meanwhile.
  const navigation = useNavigation();
  const loading = navigation.state === "loading" && navigation.location.pathname === "/app/deliveries";
  const selectedTab = Math.max(
    0,
    log.tabs.findIndex((tab) => tab.id === (log.status ?? "all")),
  );
  const listHref = (status: string | null, page?: number) =>
    href("/app/deliveries", { status: status === "all" ? null : status, page: page && page > 1 ? page : null });

  return (
    <Page title="Delivery log" subtitle="Every order this app received, and what Refersion answered" backAction={{ content: "Home", url: href("/app") }}>
      <Card padding="0">
        <Tabs
          tabs={log.tabs.map((tab) => ({
            id: `deliveries-${tab.id}`,
            content: `${tab.label} (${tab.count})`,
            accessibilityLabel: `${tab.label}: ${tab.count} orders`,
            panelID: "deliveries-panel",
          }))}
          selected={selectedTab}
          onSelect={(index) => navigate(listHref(log.tabs[index].id))}
        />
        <div id="deliveries-panel">
          <IndexTable
            resourceName={{ singular: "order", plural: "orders" }}
            itemCount={log.rows.length}
            selectable={false}
            loading={loading}
            emptyState={<DeliveryLogEmptyState tab={log.status ?? "all"} />}
            headings={[
              { title: "Order" },
              { title: "Total", alignment: "end" },
              { title: "Status" },
              { title: "Attempts", alignment: "end" },
              { title: "Last response", alignment: "end" },
              { title: "Attribution" },
              { title: "Received" },
            ]}
          >
            {log.rows.map((row, index) => (
              <IndexTable.Row id={row.id} key={row.id} position={index}>
                <IndexTable.Cell>
                  <Link url={href(`/app/deliveries/${row.id}`)} dataPrimaryLink removeUnderline monochrome>
                    <Text as="span" fontWeight="semibold">
                      {row.order}
                    </Text>
                  </Link>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {row.total ?? "—"}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <StatusBadge status={row.status} />
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {row.attempts}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {row.lastStatusCode ?? "—"}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>{row.attribution ?? "—"}</IndexTable.Cell>
                <IndexTable.Cell>{row.receivedAt}</IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </div>
      </Card>
      <BlockStack inlineAlign="center">
        <div style={{ padding: "var(--p-space-400)" }}>
          <Pagination
            hasPrevious={log.page > 1}
            previousURL={log.page > 1 ? listHref(log.status, log.page - 1) : undefined}
            hasNext={log.page < log.pageCount}
            nextURL={log.page < log.pageCount ? listHref(log.status, log.page + 1) : undefined}
            label={`Page ${log.page} of ${log.pageCount} · ${log.total} orders`}
          />
        </div>
      </BlockStack>
    </Page>
  );
}
