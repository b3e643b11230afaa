import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigate, useNavigation } from "@remix-run/react";
import {
  Banner,
  BlockStack,
  Card,
  ChoiceList,
  IndexFilters,
  IndexFiltersMode,
  IndexTable,
  InlineStack,
  Link,
  Page,
  Pagination,
  Text,
  useBreakpoints,
  useSetIndexFiltersMode,
  type IndexTableProps,
} from "@shopify/polaris";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { loadDeliveryLog, retryAllFailedFromAdmin, type DeliveryRowView } from "../admin/deliveries-page.server";
import { DeliveryLogActionSchema, parseDeliveryLogSearch } from "../admin/delivery-log-query.server";
import { shopTimeZone } from "../admin/shop-time-zone.server";
import { countOf } from "../admin/plural";
import { DeliveryLogEmptyState } from "../components/DeliveryLogEmptyState";
import { useAppHref } from "../components/embedded-links";
import { useToastOrInline } from "../components/flash";
import { AffiliateCell } from "../components/AffiliateCell";
import { StatusBadge } from "../components/StatusBadge";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const search = parseDeliveryLogSearch(new URL(request.url).searchParams);
  return loadDeliveryLog(session.shop, search, await shopTimeZone(session.shop, admin.graphql));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = DeliveryLogActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) throw new Response("Unknown action", { status: 400 });
  return { ...(await retryAllFailedFromAdmin(session.shop)), at: Date.now() };
};

type Heading = IndexTableProps["headings"][number];

/**
 * The log's columns, left to right: a new column is one entry here (its heading and its cell,
 * from the row's view in app/admin/deliveries-page.server.ts).
 */
const COLUMNS: { id: string; heading: Heading; cell: (row: DeliveryRowView, href: ReturnType<typeof useAppHref>) => ReactNode }[] = [
  {
    id: "order",
    heading: { title: "Order" },
    cell: (row, href) => (
      <Link url={href(`/app/deliveries/${row.id}`)} dataPrimaryLink removeUnderline monochrome>
        <Text as="span" fontWeight="semibold">
          {row.order}
        </Text>
      </Link>
    ),
  },
  {
    id: "total",
    heading: { title: "Total", alignment: "end" },
    cell: (row) => (
      <Text as="span" alignment="end" numeric>
        {row.total ?? "—"}
      </Text>
    ),
  },
  { id: "status", heading: { title: "Status" }, cell: (row) => <StatusBadge status={row.status} /> },
  {
    id: "reason",
    heading: { title: "Reason" },
    cell: (row) => (
      <div style={{ whiteSpace: "normal", minWidth: "12rem", maxWidth: "24rem" }}>
        <Text as="span" tone={row.status === "failed" ? "critical" : "subdued"}>
          {row.reason ?? "—"}
        </Text>
      </div>
    ),
  },
  { id: "attribution", heading: { title: "Attribution" }, cell: (row) => row.attribution ?? "—" },
  { id: "affiliate", heading: { title: "Affiliate" }, cell: (row) => <AffiliateCell cell={row.affiliate} /> },
  {
    id: "attempts",
    heading: { title: "Attempts", alignment: "end" },
    cell: (row) => (
      <Text as="span" alignment="end" numeric>
        {row.attempts}
      </Text>
    ),
  },
  { id: "received", heading: { title: "Received" }, cell: (row) => row.receivedAt },
];

export default function DeliveryLog() {
  const log = useLoaderData<typeof loader>();
  const href = useAppHref();
  // Phones get Polaris' small-screen table (one stacked block per order, no sideways scrolling).
  const condensed = useBreakpoints().smDown;
  const navigate = useNavigate();
  // Switching tabs, filters or pages loads this route again: show it on the table meanwhile.
  const navigation = useNavigation();
  const loading = navigation.state === "loading" && navigation.location.pathname === "/app/deliveries";
  const filtered = Boolean(log.query || log.range || log.affiliate);
  const { mode, setMode } = useSetIndexFiltersMode(filtered ? IndexFiltersMode.Filtering : IndexFiltersMode.Default);
  const retryAll = useFetcher<typeof action>();
  const retried = retryAll.state === "idle" ? retryAll.data : undefined;
  const showInline = useToastOrInline(retried?.message ?? null, retried?.at, retried?.tone === "warning");

  const selectedTab = Math.max(
    0,
    log.tabs.findIndex((tab) => tab.id === (log.status ?? "all")),
  );
  const listHref = (changes: { status?: string | null; q?: string | null; range?: string | null; affiliate?: string | null; page?: number }) => {
    const status = changes.status !== undefined ? changes.status : log.status;
    const page = changes.page ?? 1;
    return href("/app/deliveries", {
      status: status === "all" ? null : status,
      q: changes.q !== undefined ? changes.q : log.query,
      range: changes.range !== undefined ? changes.range : log.range,
      affiliate: changes.affiliate !== undefined ? changes.affiliate : log.affiliate,
      page: page > 1 ? page : null,
    });
  };

  // The search is typed in the field and sent once typing pauses, as Shopify's own lists do.
  const [query, setQuery] = useState(log.query);
  const typed = useRef(false);
  useEffect(() => {
    if (!typed.current || query === log.query) return;
    const timer = setTimeout(() => navigate(listHref({ q: query || null }), { replace: true }), 400);
    return () => clearTimeout(timer);
    // listHref follows the loader's data; only a new query should start the timer.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query]);

  const rangeLabel = log.ranges.find((choice) => choice.value === log.range)?.label;

  return (
    <Page
      title="Delivery log"
      subtitle="Every order this app received, and what Refersion answered"
      backAction={{ content: "Home", url: href("/app") }}
      // The page's one action, shown only while orders failed; primary so a phone shows it too.
      primaryAction={
        log.failedCount > 0
          ? {
              content: `Retry all failed (${log.failedCount})`,
              loading: retryAll.state !== "idle",
              onAction: () => retryAll.submit({ intent: "retry_all_failed" }, { method: "post" }),
            }
          : undefined
      }
    >
      <BlockStack gap="400">
        {retried && showInline ? (
          <div data-testid="retry-all-result">
            <Banner tone={retried.tone} title={retried.message} />
          </div>
        ) : null}
        <Card padding="0">
          <IndexFilters
            tabs={log.tabs.map((tab) => ({
              id: `deliveries-${tab.id}`,
              content: `${tab.label} (${tab.count})`,
              accessibilityLabel: `${tab.label}: ${countOf(tab.count, "order")}`,
              panelID: "deliveries-panel",
              isLocked: true,
            }))}
            selected={selectedTab}
            onSelect={(index) => navigate(listHref({ status: log.tabs[index].id }))}
            canCreateNewView={false}
            queryValue={query}
            queryPlaceholder="Search by order number"
            onQueryChange={(value) => {
              typed.current = true;
              setQuery(value);
            }}
            onQueryClear={() => {
              setQuery("");
              navigate(listHref({ q: null }), { replace: true });
            }}
            filters={[
              {
                key: "range",
                label: "Received",
                shortcut: true,
                filter: (
                  <ChoiceList
                    title="Received"
                    titleHidden
                    choices={log.ranges.map((choice) => ({ label: choice.label, value: choice.value }))}
                    selected={log.range ? [log.range] : []}
                    onChange={(selected) => navigate(listHref({ range: selected[0] ?? null }))}
                  />
                ),
              },
              {
                key: "affiliate",
                label: "Affiliate",
                shortcut: true,
                filter: (
                  <ChoiceList
                    title="Affiliate"
                    titleHidden
                    choices={log.affiliateFilters.map((choice) => ({ label: choice.label, value: choice.value }))}
                    selected={log.affiliate ? [log.affiliate] : []}
                    onChange={(selected) => navigate(listHref({ affiliate: selected[0] ?? null }))}
                  />
                ),
              },
            ]}
            appliedFilters={[
              ...(log.range && rangeLabel ? [{ key: "range", label: `Received: ${rangeLabel}`, onRemove: () => navigate(listHref({ range: null })) }] : []),
              ...(log.affiliate
                ? [
                    {
                      key: "affiliate",
                      label: `Affiliate: ${log.affiliateFilters.find((choice) => choice.value === log.affiliate)?.label}`,
                      onRemove: () => navigate(listHref({ affiliate: null })),
                    },
                  ]
                : []),
            ]}
            onClearAll={() => {
              setQuery("");
              navigate(listHref({ q: null, range: null, affiliate: null }));
            }}
            cancelAction={{
              onAction: () => {
                setQuery("");
                if (filtered) navigate(listHref({ q: null, range: null, affiliate: null }));
              },
            }}
            mode={mode}
            setMode={setMode}
            loading={loading}
            filteringAccessibilityLabel="Search and filter orders"
          />
          <div id="deliveries-panel">
            <IndexTable
              condensed={condensed}
              resourceName={{ singular: "order", plural: "orders" }}
              itemCount={log.rows.length}
              selectable={false}
              loading={loading}
              emptyState={<DeliveryLogEmptyState tab={filtered ? "filtered" : (log.status ?? "all")} />}
              headings={COLUMNS.map((column) => column.heading) as IndexTableProps["headings"]}
            >
              {log.rows.map((row, index) => (
                <IndexTable.Row id={row.id} key={row.id} position={index}>
                  {condensed ? (
                    // Polaris' small-screen list: each order's columns stacked, each named.
                    <div style={{ padding: "var(--p-space-300) var(--p-space-400)", whiteSpace: "normal" }}>
                      <BlockStack gap="100">
                        {COLUMNS.map((column) => (
                          <InlineStack key={column.id} gap="200" blockAlign="start">
                            <Text as="span" tone="subdued">
                              {column.heading.title}:
                            </Text>
                            {column.cell(row, href)}
                          </InlineStack>
                        ))}
                      </BlockStack>
                    </div>
                  ) : (
                    COLUMNS.map((column) => <IndexTable.Cell key={column.id}>{column.cell(row, href)}</IndexTable.Cell>)
                  )}
                </IndexTable.Row>
              ))}
            </IndexTable>
          </div>
        </Card>
        <BlockStack inlineAlign="center">
          <div style={{ padding: "var(--p-space-400)" }}>
            <Pagination
              hasPrevious={log.page > 1}
              previousURL={log.page > 1 ? listHref({ page: log.page - 1 }) : undefined}
              hasNext={log.page < log.pageCount}
              nextURL={log.page < log.pageCount ? listHref({ page: log.page + 1 }) : undefined}
              label={`Page ${log.page} of ${log.pageCount} · ${countOf(log.total, "order")}`}
            />
          </div>
        </BlockStack>
      </BlockStack>
    </Page>
  );
}
