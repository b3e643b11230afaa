import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, Card, IndexTable, Link, List, Page, Text, useBreakpoints } from "@shopify/polaris";
import { countOf } from "../admin/plural";
import { DataRequestDownloadSchema, exportCustomerData, loadPrivacyPage } from "../admin/privacy-page.server";
import { useAppHref } from "../components/embedded-links";
import { shopTimeZone } from "../admin/shop-time-zone.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  return loadPrivacyPage(session.shop, await shopTimeZone(session.shop, admin.graphql));
};

/** The download is an action so that it goes through App Bridge's authenticated fetch. */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = DataRequestDownloadSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) throw new Response("Unknown action", { status: 400 });
  const file = await exportCustomerData(session.shop, form.data.requestId);
  if (!file) throw new Response("Data request not found", { status: 404 });
  return file;
};

/** A request may name thousands of orders: the table shows the first few and how many more. */
function orderList(orderIds: string[], ordersRequested: number): string {
  if (ordersRequested === 0) return "None";
  const more = ordersRequested - orderIds.length;
  return more > 0 ? `${orderIds.join(", ")} and ${more} more` : orderIds.join(", ");
}

/** The customer, linked to their page in the Shopify admin (outside the app's frame). */
function CustomerLink({ customerId, url }: { customerId: string | null; url: string | null }) {
  if (!customerId || !url) return <>No customer</>;
  return (
    <Link url={url} target="_top" removeUnderline={false}>
      {`Customer ${customerId}`}
    </Link>
  );
}

/** What the app found; for a request it could not read, what it recorded, folded away. */
function Outcome({ request }: { request: { outcome: string; detail: string | null; downloadable: boolean } }) {
  // Table cells do not wrap; a sentence does, within a readable measure.
  return (
    <div style={{ whiteSpace: "normal", minWidth: "12rem", maxWidth: "26rem" }}>
      <BlockStack gap="100">
        <Text as="span" tone={request.downloadable ? undefined : "critical"}>
          {request.outcome}
        </Text>
        {request.detail ? (
          <details>
            <summary>Details</summary>
            <Text as="p" variant="bodySm" tone="subdued" breakWord>
              {request.detail}
            </Text>
          </details>
        ) : null}
      </BlockStack>
    </div>
  );
}

function saveFile(fileName: string, json: string) {
  const url = URL.createObjectURL(new Blob([json], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function DownloadButton({ requestId }: { requestId: string }) {
  const fetcher = useFetcher<typeof action>();
  useEffect(() => {
    if (fetcher.state === "idle" && fetcher.data) saveFile(fetcher.data.fileName, fetcher.data.json);
  }, [fetcher.state, fetcher.data]);
  return (
    <Button
      size="slim"
      loading={fetcher.state !== "idle"}
      onClick={() => fetcher.submit({ intent: "download", requestId }, { method: "post" })}
      accessibilityLabel="Download what the app holds for this customer as JSON"
    >
      Download JSON
    </Button>
  );
}

export default function PrivacyRequests() {
  const view = useLoaderData<typeof loader>();
  const href = useAppHref();
  // Polaris' small-screen table: one stacked cell per request instead of five columns.
  const { smDown } = useBreakpoints();
  return (
    <Page
      title="Privacy requests"
      subtitle="Customers' requests for their data, sent by Shopify, and what this app holds for each"
      backAction={{ content: "Home", url: href("/app") }}
    >
      <BlockStack gap="400">
        <Box paddingInline={{ xs: "400", sm: "0" }}>
          <Text as="p" tone="subdued">
            When a customer asks your store for their data, Shopify sends the request here too. Download what this app holds for that customer
            and include it in your answer. A request the app could not read shows no customer: answer that one by hand from your Shopify admin.
          </Text>
        </Box>
        {view.unfinished.length > 0 ? (
          <Banner tone="critical" title="Requests not carried out yet">
            <BlockStack gap="200">
              <Text as="p">
                The app could not carry out these requests from Shopify. It tries again every hour; if one stays here, contact the app&apos;s
                support.
              </Text>
              <List>
                {view.unfinished.map((request) => (
                  <List.Item key={request.id}>
                    {request.what}
                    {request.customerId && request.customerUrl ? (
                      <>
                        {" for "}
                        <CustomerLink customerId={request.customerId} url={request.customerUrl} />
                      </>
                    ) : null}
                    , received {request.receivedAt}: {countOf(request.attempts, "attempt")}
                    {request.lastAttemptAt ? `, the last ${request.lastAttemptAt}` : ""}
                  </List.Item>
                ))}
              </List>
            </BlockStack>
          </Banner>
        ) : null}
        <Card padding="0">
          <IndexTable
            resourceName={{ singular: "data request", plural: "data requests" }}
            itemCount={view.requests.length}
            selectable={false}
            condensed={smDown}
            emptyState={
              <Box padding="600">
                <BlockStack gap="200" inlineAlign="center">
                  <Text as="p" variant="headingMd">
                    No data requests
                  </Text>
                  <Text as="p" tone="subdued">
                    Customers' data requests appear here as soon as Shopify sends them.
                  </Text>
                </BlockStack>
              </Box>
            }
            headings={[{ title: "Received" }, { title: "Customer" }, { title: "Orders requested" }, { title: "Found" }, { title: "Data" }]}
          >
            {view.requests.map((request, index) =>
              smDown ? (
                <IndexTable.Row id={request.id} key={request.id} position={index}>
                  <Box padding="300">
                    <BlockStack gap="200">
                      <Text as="span" fontWeight="semibold">
                        <CustomerLink customerId={request.customerId} url={request.customerUrl} />
                      </Text>
                      <Text as="span" tone="subdued">
                        Received {request.receivedAt}
                      </Text>
                      <Text as="span">Orders requested: {orderList(request.orderIds, request.ordersRequested)}</Text>
                      <Outcome request={request} />
                      {request.downloadable ? <DownloadButton requestId={request.id} /> : null}
                    </BlockStack>
                  </Box>
                </IndexTable.Row>
              ) : (
                <IndexTable.Row id={request.id} key={request.id} position={index}>
                  <IndexTable.Cell>{request.receivedAt}</IndexTable.Cell>
                  <IndexTable.Cell>
                    <CustomerLink customerId={request.customerId} url={request.customerUrl} />
                  </IndexTable.Cell>
                  <IndexTable.Cell>{orderList(request.orderIds, request.ordersRequested)}</IndexTable.Cell>
                  <IndexTable.Cell>
                    <Outcome request={request} />
                  </IndexTable.Cell>
                  <IndexTable.Cell>{request.downloadable ? <DownloadButton requestId={request.id} /> : "Answer by hand"}</IndexTable.Cell>
                </IndexTable.Row>
              ),
            )}
          </IndexTable>
        </Card>
        {view.total > view.requests.length ? (
          <Box paddingInline={{ xs: "400", sm: "0" }}>
            <Text as="p" tone="subdued">
              The newest {view.requests.length} of {countOf(view.total, "request")} are shown.
            </Text>
          </Box>
        ) : null}
      </BlockStack>
    </Page>
  );
}
