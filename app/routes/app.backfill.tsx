import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { Badge, Banner, BlockStack, Button, Card, InlineGrid, InlineStack, Layout, Link, List, Page, ProgressBar, Text, TextField } from "@shopify/polaris";
import { formatDate } from "../admin/format";
import { shopTimeZone } from "../admin/shop-time-zone.server";
import { countOf, pluralForm } from "../admin/plural";
import { useAppHref } from "../components/embedded-links";
import { loadBackfillPage, startBackfillFromAdmin } from "../backfill/backfill-page.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  return loadBackfillPage(session.shop, await shopTimeZone(session.shop, admin.graphql));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const form = await request.formData();
  const timeZone = await shopTimeZone(session.shop, admin.graphql);
  const result = await startBackfillFromAdmin(session.shop, { since: form.get("since") ?? "", until: form.get("until") ?? "" }, timeZone);
  return result.ok ? result : data(result, { status: 400 });
};

const STATUS_BADGES = {
  queued: { tone: "info", label: "Starting" },
  running: { tone: "attention", label: "Running" },
  done: { tone: "success", label: "Done" },
  failed: { tone: "critical", label: "Failed" },
} as const;

/** How often the page asks the server for the job's progress while it runs. */
const POLL_MS = 1_000;

/** What a job's figures mean, in sentences: what was read, what was queued, and why the rest was not. */
function jobSummary(job: { status: string; processed: number; total: number | null; enqueued: number }): string[] {
  const read = job.total === null ? `${countOf(job.processed, "order")} read` : `${job.processed} of ${countOf(job.total, "order")} read`;
  const lines = [`${read}, ${countOf(job.enqueued, "order")} queued for Refersion.`];
  const notQueued = job.processed - job.enqueued;
  if (job.status === "done" && job.processed > 0 && job.enqueued === 0) {
    lines.push(
      `Nothing was sent again: the app already had ${job.processed === 1 ? "this order" : `all ${job.processed} orders`} of these days (sent, on their way, or ones it does not send, such as test or cancelled orders). An order is never sent to Refersion twice.`,
    );
  } else if (job.status === "done" && notQueued > 0) {
    lines.push(
      `${countOf(notQueued, "order")} ${pluralForm(notQueued, "was", "were")} not sent again: the app already had ${pluralForm(notQueued, "it", "them")} (sent or on ${pluralForm(notQueued, "its", "their")} way), or ${pluralForm(notQueued, "it is an order", "they are orders")} it does not send, such as test or cancelled orders.`,
    );
  } else if (job.status === "done" && job.processed === 0) {
    lines.push("Shopify has no orders on these days.");
  }
  return lines;
}

export default function ResendPastOrders() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const revalidator = useRevalidator();
  const href = useAppHref();
  const [since, setSince] = useState(view.defaults.since);
  const [until, setUntil] = useState(view.defaults.until);

  // The job runs on the server; while it does, the page reloads its figures every second.
  // Everything shown comes from the database, so a reload of the page picks the job up again.
  useEffect(() => {
    if (!view.active) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle") revalidator.revalidate();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [view.active, revalidator]);

  const errors = actionData && !actionData.ok ? actionData.errors : {};
  const job = view.job;
  const starting = navigation.state === "submitting";
  const olderThanReadable = since < view.oldestReadable;

  return (
    <Page title="Resend past orders" narrowWidth backAction={{ content: "Home", url: href("/app") }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <Form method="post">
                <BlockStack gap="400">
                  <Text as="p">
                    Sends the orders of the days you choose to Refersion, for example the orders placed before the app was installed or while
                    it was switched off. Orders the app already has are not sent again.
                  </Text>
                  <BlockStack gap="100">
                    <Text as="h2" variant="headingSm">
                      Which past orders can still credit an affiliate
                    </Text>
                    <Text as="p">
                      Only orders with click data: Refersion credits an affiliate when the order's cart was reported to it while the buyer
                      visited through an affiliate link, that is orders whose cart token the app embed reported, or that carry its{" "}
                      <code>_rfsn_cart</code> note attribute.
                    </Text>
                    <List>
                      <List.Item>Orders placed while the app embed was on, by buyers who came through an affiliate link: credited.</List.Item>
                      <List.Item>
                        Orders placed before the embed was on, or through Buy it now, express checkout, POS or draft orders: Refersion records
                        them, but no affiliate is credited.
                      </List.Item>
                    </List>
                  </BlockStack>
                  <InlineGrid columns={{ xs: 1, sm: 2 }} gap="400">
                    <TextField
                      label="From"
                      type="date"
                      name="since"
                      value={since}
                      onChange={setSince}
                      max={view.today}
                      autoComplete="off"
                      error={errors.since}
                      disabled={view.active}
                    />
                    <TextField
                      label="To"
                      type="date"
                      name="until"
                      value={until}
                      onChange={setUntil}
                      max={view.today}
                      autoComplete="off"
                      error={errors.until}
                      helpText={`Included. Days are in the shop's time zone (${view.timeZone}).`}
                      disabled={view.active}
                    />
                  </InlineGrid>
                  {olderThanReadable ? (
                    <Banner tone="warning">
                      <p>Shopify lets the app read the last 60 days of orders (from {formatDate(view.oldestReadable)}). Older orders will not be found.</p>
                    </Banner>
                  ) : null}
                  <InlineStack align="end">
                    <Button submit variant="primary" loading={starting} disabled={view.active}>
                      Resend orders
                    </Button>
                  </InlineStack>
                </BlockStack>
              </Form>
            </Card>

            {job ? (
              <Card>
                <BlockStack gap="300">
                  <InlineStack align="space-between" blockAlign="center" gap="200">
                    <Text as="h2" variant="headingMd" id="backfill-job-heading">
                      Orders from {formatDate(job.since)} to {job.until ? formatDate(job.until) : "now"}
                    </Text>
                    <Badge tone={STATUS_BADGES[job.status].tone}>{STATUS_BADGES[job.status].label}</Badge>
                  </InlineStack>
                  <div data-testid="backfill-progress" data-status={job.status} data-percent={job.percent ?? ""}>
                    <ProgressBar
                      progress={job.percent ?? 0}
                      ariaLabelledBy="backfill-job-heading"
                      tone={job.status === "failed" ? "critical" : job.status === "done" ? "success" : "highlight"}
                    />
                  </div>
                  <BlockStack gap="100">
                    {job.status === "queued" || (job.status === "running" && job.total === null) ? (
                      <Text as="p" tone="subdued">
                        Counting the orders of these days…
                      </Text>
                    ) : null}
                    {jobSummary(job).map((line) => (
                      <Text as="p" key={line}>
                        {line}
                      </Text>
                    ))}
                    {view.clickData && view.clickData.withClickData + view.clickData.withoutClickData > 0 ? (
                      <Text as="p" tone="subdued">
                        Of the orders queued, {countOf(view.clickData.withClickData, "order")} {pluralForm(view.clickData.withClickData, "carries", "carry")}{" "}
                        click data and can credit an affiliate; {countOf(view.clickData.withoutClickData, "order")}{" "}
                        {pluralForm(view.clickData.withoutClickData, "carries", "carry")} none and will credit no one.
                      </Text>
                    ) : null}
                  </BlockStack>
                  {job.error ? (
                    <Banner tone={job.status === "failed" ? "critical" : "warning"}>
                      <p>{job.error}</p>
                    </Banner>
                  ) : null}
                  {job.status === "done" && job.enqueued > 0 ? (
                    <Text as="p">
                      Follow them in the <Link url={href("/app/deliveries")}>delivery log</Link>.
                    </Text>
                  ) : null}
                </BlockStack>
              </Card>
            ) : null}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
