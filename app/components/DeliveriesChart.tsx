import { BlockStack, InlineStack, Text, useBreakpoints } from "@shopify/polaris";

export interface ChartDay {
  day: string;
  label: string;
  delivered: number;
  failed: number;
}

const DELIVERED_COLOR = "#29845a";
const FAILED_COLOR = "#e51c00";
/**
 * The drawing's width in its own units; the SVG scales to its card. On a phone the card is about
 * 350 px wide: drawn 800 units wide its 12-unit labels would shrink to 5 px, so a phone gets a
 * narrower drawing and labels near their size.
 */
const WIDE = 800;
const NARROW = 360;
const HEIGHT = 180;
const AXIS = 24;
const TOP = 16;

/** Delivered and failed orders per day, as grouped bars. Plain SVG: no chart library for seven days. */
export function DeliveriesChart({ days }: { days: ChartDay[] }) {
  const WIDTH = useBreakpoints().smDown ? NARROW : WIDE;
  const max = Math.max(1, ...days.flatMap((d) => [d.delivered, d.failed]));
  const slot = WIDTH / Math.max(1, days.length);
  const bar = Math.min(24, slot / 3);
  const plot = HEIGHT - AXIS - TOP;
  const heightOf = (value: number) => (value === 0 ? 0 : Math.max(2, (value / max) * plot));
  const summary = days.map((d) => `${d.label}: ${d.delivered} delivered, ${d.failed} failed`).join("; ");

  // Seven empty days would draw a bare axis: say it in words instead.
  if (days.every((d) => d.delivered === 0 && d.failed === 0)) {
    return (
      <div data-testid="deliveries-chart-empty">
        <Text as="p" tone="subdued">
          No order was delivered or failed in the last 7 days.
        </Text>
      </div>
    );
  }

  return (
    <BlockStack gap="200">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-labelledby="deliveries-chart-title deliveries-chart-desc"
        data-testid="deliveries-chart"
      >
        <title id="deliveries-chart-title">Deliveries per day, last 7 days</title>
        <desc id="deliveries-chart-desc">{summary}</desc>
        <line x1={0} x2={WIDTH} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} stroke="#c9cccf" />
        {days.map((d, index) => {
          const center = slot * index + slot / 2;
          const deliveredHeight = heightOf(d.delivered);
          const failedHeight = heightOf(d.failed);
          return (
            <g key={d.day} data-day={d.day}>
              <rect
                x={center - bar - 1}
                y={HEIGHT - AXIS - deliveredHeight}
                width={bar}
                height={deliveredHeight}
                fill={DELIVERED_COLOR}
                data-series="delivered"
                data-value={d.delivered}
              >
                <title>{`${d.label}: ${d.delivered} delivered`}</title>
              </rect>
              <rect
                x={center + 1}
                y={HEIGHT - AXIS - failedHeight}
                width={bar}
                height={failedHeight}
                fill={FAILED_COLOR}
                data-series="failed"
                data-value={d.failed}
              >
                <title>{`${d.label}: ${d.failed} failed`}</title>
              </rect>
              {d.delivered > 0 ? (
                <text x={center - bar / 2 - 1} y={HEIGHT - AXIS - deliveredHeight - 4} fontSize="11" textAnchor="middle" fill="#303030">
                  {d.delivered}
                </text>
              ) : null}
              {d.failed > 0 ? (
                <text x={center + bar / 2 + 1} y={HEIGHT - AXIS - failedHeight - 4} fontSize="11" textAnchor="middle" fill="#303030">
                  {d.failed}
                </text>
              ) : null}
              <text x={center} y={HEIGHT - 6} fontSize="12" textAnchor="middle" fill="#616161">
                {d.label}
              </text>
            </g>
          );
        })}
      </svg>
      <InlineStack gap="400">
        <LegendItem color={DELIVERED_COLOR} label="Delivered" />
        <LegendItem color={FAILED_COLOR} label="Failed" />
      </InlineStack>
    </BlockStack>
  );
}

function LegendItem({ color, label }: { color: string; label: string }) {
  return (
    <InlineStack gap="100" blockAlign="center">
      <svg width="12" height="12" aria-hidden="true">
        <rect width="12" height="12" rx="2" fill={color} />
      </svg>
      <Text as="span" variant="bodySm">
        {label}
      </Text>
    </InlineStack>
  );
}
