import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { isRouteErrorResponse, useFetcher, useLoaderData, useRouteError } from "@remix-run/react";
import { Banner, BlockStack, Box, Card, DataTable, InlineStack, Layout, Page, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { loadDeliveryDetail, retryFromAdmin } from "../admin/deliveries-page.server";
import { DeliveryActionSchema, DeliveryIdSchema } from "../admin/delivery-log-query.server";
import { useAppHref } from "../components/embedded-links";
import { useToastOrInline } from "../components/flash";
import { StatusBadge } from "../components/StatusBadge";
import { authenticate } from "../shopify.server";

function notFound(): Response {
  return new Response("Delivery not found", { status: 404 });
}

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = DeliveryIdSchema.safeParse(params.id);
  if (!id.success) throw notFound();
  const detail = await loadDeliveryDetail(session.shop, id.data);
  if (!detail) throw notFound();
  return detail;
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = DeliveryIdSchema.safeParse(params.id);
  if (!id.success) throw notFound();
  const form = DeliveryActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) throw new Response("Unknown action", { status: 400 });
  const result = await retryFromAdmin(session.shop, id.data);
  if (!result.found) throw notFound();
  return { queued: result.queued, tone: result.tone, message: result.message, at: Date.now() };
};

export default function DeliveryDetailPage() {
  const delivery = useLoaderData<typeof loader>();
  const href = useAppHref();
  const fetcher = useFetcher<typeof action>();
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const showInline = useToastOrInline(result?.message ?? null, result?.at, result?.tone === "warning");

  // No attempt recorded and never delivered: the JSON is what will be sent, not what was.
  const neverSent = delivery.attempts.length === 0 && delivery.deliveredAt === null;

  const retry = delivery.retryAction
    ? {
        content: delivery.retryAction,
        loading: fetcher.state !== "idle",
        onAction: () => fetcher.submit({ intent: "retry" }, { method: "post" }),
      }
    : undefined;

  return (
    <Page
      title={delivery.order}
      titleMetadata={<StatusBadge status={delivery.status} />}
      subtitle={`Received ${delivery.receivedAt}${delivery.total ? ` · ${delivery.total}` : ""}`}
      backAction={{ content: "Delivery log", url: href("/app/deliveries") }}
      primaryAction={retry}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {result && showInline ? (
              <div data-testid="retry-result">
                <Banner tone={result.tone} title={result.message} />
              </div>
            ) : null}
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Status
                </Text>
                <InlineStack gap="200" blockAlign="center">
                  <StatusBadge status={delivery.status} />
                  <Text as="span" tone="subdued">
                    Shopify order {delivery.orderId}
                  </Text>
                </InlineStack>
                {delivery.reason ? <Text as="p">{delivery.reason}</Text> : null}
                {delivery.attribution ? <Text as="p">Attribution: {delivery.attribution}</Text> : null}
                {delivery.deliveredAt ? <Text as="p">Delivered {delivery.deliveredAt}</Text> : null}
                {delivery.nextAttemptAt ? <Text as="p">Next attempt {delivery.nextAttemptAt}</Text> : null}
              </BlockStack>
            </Card>
            <Card padding="0">
              <Box padding="400">
                <Text as="h2" variant="headingMd">
                  Attempts ({delivery.attempts.length})
                </Text>
              </Box>
              {delivery.attempts.length === 0 ? (
                <Box padding="400" paddingBlockStart="0">
                  <Text as="p" tone="subdued">
                    No attempt yet.
                  </Text>
                </Box>
              ) : (
                <DataTable
                  columnContentTypes={["text", "numeric", "text", "numeric", "text"]}
                  headings={["Time", "Status code", "Outcome", "Duration", "Refersion's answer"]}
                  rows={delivery.attempts.map((attempt) => [
                    attempt.startedAt,
                    attempt.statusCode ?? "—",
                    attempt.outcomeLabel,
                    `${attempt.durationMs} ms`,
                    <span key={attempt.id} style={{ whiteSpace: "pre-wrap", wordBreak: "break-word", fontFamily: "var(--p-font-family-mono)" }}>
                      {[attempt.error, attempt.responseExcerpt].filter(Boolean).join("\n") || "—"}
                    </span>,
                  ])}
                />
              )}
            </Card>
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  {delivery.requestJson ? (neverSent ? "JSON to send to Refersion" : "JSON sent to Refersion") : "What Shopify sent"}
                </Text>
                <Box background="bg-surface-secondary" padding="300" borderRadius="200" overflowX="scroll">
                  <pre data-testid="request-json" style={{ margin: 0, fontSize: 12, whiteSpace: "pre" }}>
                    {delivery.requestJson ?? delivery.sourceExcerpt ?? "Nothing was recorded."}
                  </pre>
                </Box>
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const href = useAppHref();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <Page title="Delivery not found" backAction={{ content: "Delivery log", url: href("/app/deliveries") }}>
        <Card>
          <Text as="p">This delivery does not exist in this shop.</Text>
        </Card>
      </Page>
    );
  }
  return boundary.error(error);
}
