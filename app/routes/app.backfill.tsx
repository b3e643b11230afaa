import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { Badge, Banner, BlockStack, Button, Card, InlineGrid, InlineStack, Layout, Link, Page, ProgressBar, Text, TextField } from "@shopify/polaris";
import { useAppHref } from "../components/embedded-links";
import { loadBackfillPage, startBackfillFromAdmin } from "../backfill/backfill-page.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return loadBackfillPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = await request.formData();
  const result = await startBackfillFromAdmin(session.shop, { since: form.get("since") ?? "", until: form.get("until") ?? "" });
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
                  <InlineGrid columns={2} gap="400">
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
                      helpText="Included. Days are in UTC."
                      disabled={view.active}
                    />
                  </InlineGrid>
                  {olderThanReadable ? (
                    <Banner tone="warning">
                      <p>Shopify lets the app read the last 60 days of orders (from {view.oldestReadable}). Older orders will not be found.</p>
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
                  <InlineStack align="space-between" blockAlign="center">
                    <Text as="h2" variant="headingMd">
                      Orders from {job.since} to {job.until ?? "now"}
                    </Text>
                    <Badge tone={STATUS_BADGES[job.status].tone}>{STATUS_BADGES[job.status].label}</Badge>
                  </InlineStack>
                  <div data-testid="backfill-progress" data-status={job.status} data-percent={job.percent ?? ""}>
                    <ProgressBar progress={job.percent ?? 0} tone={job.status === "failed" ? "critical" : job.status === "done" ? "success" : "highlight"} />
                  </div>
                  <Text as="p" tone="subdued">
                    {job.total === null ? `${job.processed} orders read` : `${job.processed} of ${job.total} orders read`} · {job.enqueued} queued for
                    Refersion
                  </Text>
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
