import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { isRouteErrorResponse, useFetcher, useLoaderData, useRouteError } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, Card, DataTable, Divider, InlineStack, Layout, Page, Text, useBreakpoints } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useState } from "react";
import { loadDeliveryDetail, retryFromAdmin, type DeliveryDetailView } from "../admin/deliveries-page.server";
import { loadConversionDetail, type ConversionDetailView } from "../admin/conversions-view.server";
import { ConversionCard } from "../components/ConversionCard";
import { DeliveryActionSchema, DeliveryIdSchema } from "../admin/delivery-log-query.server";
import { shopTimeZone } from "../admin/shop-time-zone.server";
import { useAppHref } from "../components/embedded-links";
import { useToastOrInline } from "../components/flash";
import { StatusBadge } from "../components/StatusBadge";
import { authenticate } from "../shopify.server";

function notFound(): Response {
  return new Response("Delivery not found", { status: 404 });
}

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const id = DeliveryIdSchema.safeParse(params.id);
  if (!id.success) throw notFound();
  const timeZone = await shopTimeZone(session.shop, admin.graphql);
  const detail = await loadDeliveryDetail(session.shop, id.data, timeZone);
  if (!detail) throw notFound();
  return { ...detail, conversion: await loadConversionDetail(session.shop, id.data, { timeZone }) };
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

/** Long words (ids, JSON, library messages) wrap instead of widening the page on a phone. */
const WRAP = { overflowWrap: "anywhere", wordBreak: "break-word" } as const;

export default function DeliveryDetailPage() {
  const delivery = useLoaderData<typeof loader>() as DeliveryDetailView;
  const { conversion } = useLoaderData<typeof loader>() as { conversion: ConversionDetailView | null };
  const href = useAppHref();
  const fetcher = useFetcher<typeof action>();
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const showInline = useToastOrInline(result?.message ?? null, result?.at, result?.tone === "warning");
  // Resending a delivered order asks first: Refersion may credit its commission a second time.
  const [confirmingResend, setConfirmingResend] = useState(false);
  const submitRetry = () => {
    setConfirmingResend(false);
    fetcher.submit({ intent: "retry" }, { method: "post" });
  };

  // No attempt recorded and never delivered: the JSON is what will be sent, not what was.
  const neverSent = delivery.attempts.length === 0 && delivery.deliveredAt === null;
  const busy = fetcher.state !== "idle";
  const viewInShopify = { content: "View order in Shopify", url: delivery.shopifyOrderUrl, target: "_top" as const };

  return (
    <Page
      title={delivery.order}
      titleMetadata={<StatusBadge status={delivery.status} />}
      subtitle={`Received ${delivery.receivedAt}${delivery.total ? ` · ${delivery.total}` : ""}`}
      backAction={{ content: "Delivery log", url: href("/app/deliveries") }}
      primaryAction={delivery.retryAction === "Retry" ? { content: "Retry", loading: busy, onAction: submitRetry } : undefined}
      secondaryActions={[
        viewInShopify,
        ...(delivery.retryAction === "Resend" ? [{ content: "Resend", loading: busy, onAction: () => setConfirmingResend(true) }] : []),
      ]}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {confirmingResend ? (
              <div data-testid="resend-confirmation">
                <Banner
                  tone="warning"
                  title="Send this order to Refersion again?"
                  action={{ content: "Resend anyway", onAction: submitRetry }}
                  secondaryAction={{ content: "Cancel", onAction: () => setConfirmingResend(false) }}
                  onDismiss={() => setConfirmingResend(false)}
                >
                  <p>
                    Refersion already received this order. Sending it again can credit the affiliate's commission a second time, which you
                    would then have to reverse in Refersion. Resend only if Refersion has lost the order.
                  </p>
                </Banner>
              </div>
            ) : null}
            {result && showInline ? (
              <div data-testid="retry-result">
                <Banner tone={result.tone} title={result.message} />
              </div>
            ) : null}
            <WhatHappened delivery={delivery} />
            {conversion ? <ConversionCard conversion={conversion} /> : null}
            {delivery.summary ? <OrderSummaryCard delivery={delivery} /> : null}
            <AttemptsCard delivery={delivery} />
            <Card>
              <details>
                <summary style={{ cursor: "pointer" }}>
                  <Text as="span" variant="headingMd">
                    {delivery.requestJson ? (neverSent ? "JSON to send to Refersion" : "JSON sent to Refersion") : "What Shopify sent"}
                  </Text>
                </summary>
                <Box paddingBlockStart="300">
                  <Box background="bg-surface-secondary" padding="300" borderRadius="200" overflowX="scroll">
                    <pre data-testid="request-json" style={{ margin: 0, fontSize: 12, whiteSpace: "pre" }}>
                      {delivery.requestJson ?? delivery.sourceExcerpt ?? "Nothing was recorded."}
                    </pre>
                  </Box>
                </Box>
              </details>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

/** The plain explanation: what happened, whether the app tries again and until when, what to do; raw words folded. */
function WhatHappened({ delivery }: { delivery: DeliveryDetailView }) {
  const { explanation } = delivery;
  return (
    <Card>
      <div data-testid="explanation">
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            What happened
          </Text>
          <Text as="p">{explanation.reason}</Text>
          {explanation.retry ? <Text as="p">{explanation.retry}</Text> : null}
          {explanation.nextStep ? (
            <Text as="p" fontWeight="semibold">
              What to do: {explanation.nextStep}
            </Text>
          ) : null}
          {delivery.deliveredAt ? <Text as="p">Delivered {delivery.deliveredAt}</Text> : null}
          {explanation.technical ? (
            <details>
              <summary style={{ cursor: "pointer" }}>
                <Text as="span" tone="subdued">
                  Technical details
                </Text>
              </summary>
              <div style={WRAP}>
                <Text as="p" tone="subdued" variant="bodySm">
                  {explanation.technical}
                </Text>
              </div>
            </details>
          ) : null}
        </BlockStack>
      </div>
    </Card>
  );
}

function OrderSummaryCard({ delivery }: { delivery: DeliveryDetailView }) {
  const summary = delivery.summary!;
  return (
    <Card>
      <div data-testid="order-summary">
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center" gap="200">
            <Text as="h2" variant="headingMd">
              Order sent to Refersion
            </Text>
            <Button url={delivery.shopifyOrderUrl} target="_top" variant="plain">
              Open in Shopify
            </Button>
          </InlineStack>
          <Text as="h3" variant="headingSm">
            {summary.itemCount}
          </Text>
          <BlockStack gap="100">
            {summary.items.map((item, index) => (
              <InlineStack key={`${item.sku}-${index}`} align="space-between" gap="200" wrap={false}>
                <div style={WRAP}>
                  <Text as="span">
                    {item.quantity} × {item.name}
                  </Text>{" "}
                  <Text as="span" tone="subdued" variant="bodySm">
                    SKU {item.sku}
                  </Text>
                </div>
                <Text as="span" numeric>
                  {item.price}
                </Text>
              </InlineStack>
            ))}
          </BlockStack>
          <Divider />
          <BlockStack gap="100">
            {summary.totals.map((line) => (
              <InlineStack key={line.label} align="space-between" gap="200">
                <Text as="span">{line.label}</Text>
                <Text as="span" numeric>
                  {line.amount}
                </Text>
              </InlineStack>
            ))}
            {delivery.total ? (
              <InlineStack align="space-between" gap="200">
                <Text as="span" fontWeight="semibold">
                  Order total
                </Text>
                <Text as="span" fontWeight="semibold" numeric>
                  {delivery.total}
                </Text>
              </InlineStack>
            ) : null}
          </BlockStack>
          <Divider />
          <SummaryLine label="Customer" text={summary.customer} />
          <SummaryLine label={summary.clickData.present ? "Click data: yes" : "Click data: no"} text={summary.clickData.text} />
          {/* How Refersion credits the order (the attribution source), when it is known. */}
          {delivery.attribution ? <SummaryLine label="Attribution" text={delivery.attribution} /> : null}
        </BlockStack>
      </div>
    </Card>
  );
}

function SummaryLine({ label, text }: { label: string; text: string }) {
  return (
    <BlockStack gap="050">
      <Text as="h3" variant="headingSm">
        {label}
      </Text>
      <div style={WRAP}>
        <Text as="p" tone="subdued">
          {text}
        </Text>
      </div>
    </BlockStack>
  );
}

function attemptOutcome(attempt: DeliveryDetailView["attempts"][number]): string {
  return attempt.statusCode ? `${attempt.outcomeLabel} (HTTP ${attempt.statusCode})` : attempt.outcomeLabel;
}

function attemptAnswer(attempt: DeliveryDetailView["attempts"][number]) {
  return (
    <span style={{ whiteSpace: "pre-wrap", fontFamily: "var(--p-font-family-mono)", ...WRAP }}>
      {[attempt.error, attempt.responseExcerpt].filter(Boolean).join("\n") || "—"}
    </span>
  );
}

function AttemptsCard({ delivery }: { delivery: DeliveryDetailView }) {
  // On a phone four columns squeeze the time into five lines: one block per attempt instead.
  const { smDown } = useBreakpoints();
  return (
    <Card padding="0">
      <div data-testid="attempts" data-layout={smDown ? "list" : "table"}>
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
        ) : smDown ? (
          delivery.attempts.map((attempt) => (
            <Box key={attempt.id} padding="400" borderBlockStartWidth="025" borderColor="border">
              <BlockStack gap="100">
                <Text as="p" fontWeight="semibold">
                  {attempt.startedAt}
                </Text>
                <Text as="p">
                  {attemptOutcome(attempt)} · {attempt.durationMs} ms
                </Text>
                {attemptAnswer(attempt)}
              </BlockStack>
            </Box>
          ))
        ) : (
          <DataTable
            columnContentTypes={["text", "text", "numeric", "text"]}
            headings={["Time", "Outcome", "Duration", "Refersion's answer"]}
            rows={delivery.attempts.map((attempt) => [
              attempt.startedAt,
              attemptOutcome(attempt),
              `${attempt.durationMs} ms`,
              <span key={attempt.id}>{attemptAnswer(attempt)}</span>,
            ])}
          />
        )}
      </div>
    </Card>
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
