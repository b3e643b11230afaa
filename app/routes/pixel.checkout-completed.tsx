import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { CLICK_REPORT_MAX_BYTES, parseClickReport } from "../attribution/click-report";
import { logger } from "../logger.server";
import { acceptClickReport, type ClickReportOutcome } from "../orders/click-report.server";

/**
 * POST /pixel/checkout-completed: the checkout pixel's report (docs/web-pixel.md, "The report"),
 * a text/plain simple request from Shopify's pixel sandbox, whose origin is not documented: any
 * origin, no credentials. Nobody reads the answer; its status says what happened, for tests and
 * logs. The body limit is applied before this runs (app/body-limits.server.ts: 413).
 */
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
  "Access-Control-Max-Age": "86400",
};

const STATUS: Record<ClickReportOutcome, number> = {
  credited: 204,
  kept: 204,
  duplicate: 204,
  not_applicable: 204,
  // As an ignored report: the answer must not tell who uses the app.
  unknown_shop: 204,
  rate_limited: 429,
};

const answer = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers: { ...CORS, "Cache-Control": "no-store", ...headers } });

/** Remix hands GET, HEAD and OPTIONS to the loader: a preflight, should a browser ever send one, is answered. */
export const loader = ({ request }: LoaderFunctionArgs) => (request.method === "OPTIONS" ? answer(204) : answer(405, { Allow: "POST, OPTIONS" }));

export const action = async ({ request }: ActionFunctionArgs) => {
  if (request.method !== "POST") return answer(405, { Allow: "POST, OPTIONS" });
  const body = await request.text();
  if (Buffer.byteLength(body) > CLICK_REPORT_MAX_BYTES) return answer(413);
  const report = parseClickReport(body);
  if (!report) return answer(400);
  try {
    const outcome = await acceptClickReport(report);
    logger.info("checkout pixel report", { shop: report.shop, orderId: report.orderId, outcome });
    return answer(STATUS[outcome], outcome === "rate_limited" ? { "Retry-After": "60" } : {});
  } catch (error) {
    logger.error("checkout pixel report not recorded", { shop: report.shop, error: error instanceof Error ? error.message : String(error) });
    return answer(503);
  }
};
