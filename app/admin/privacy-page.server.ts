import { z } from "zod";
import prisma from "../db.server";
import { customerDataHeld } from "../privacy/compliance.server";
import { DEFAULT_TIME_ZONE, formatDateTime } from "./format";
import { customerAdminUrl } from "./shopify-admin-links";

/** How many requests the page lists (newest first); Shopify sends few, each by a buyer's demand. */
export const PRIVACY_REQUESTS_SHOWN = 100;

const DATA_REQUEST_TOPIC = "customers/data_request";

/** Order ids of a request shown on the page; the download holds them all. */
const ORDER_IDS_SHOWN = 10;

export interface DataRequestView {
  id: string;
  receivedAt: string;
  /** Shopify's customer id, as Shopify sent it; null when the request could not be read. */
  customerId: string | null;
  /** The customer's page in the Shopify admin; null without a customer id. */
  customerUrl: string | null;
  /** The first order ids Shopify listed in the request (a request may list thousands). */
  orderIds: string[];
  /** How many order ids Shopify listed. */
  ordersRequested: number;
  /** What the app found or did, in words (e.g. "Stored orders found: 3"). */
  outcome: string;
  /**
   * For a request that names no customer and no order (Shopify's body could not be read): what
   * the app recorded, parser messages included, shown only in a details area.
   */
  detail: string | null;
  /** Whether the request names a customer or orders, so that there is something to download. */
  downloadable: boolean;
}

/** A compliance request (of any topic) that could not be carried out yet; retried hourly. */
export interface UnfinishedRequestView {
  id: string;
  /** What Shopify asked, in words. */
  what: string;
  receivedAt: string;
  customerId: string | null;
  customerUrl: string | null;
  attempts: number;
  lastAttemptAt: string | null;
}

export interface PrivacyPageView {
  requests: DataRequestView[];
  total: number;
  unfinished: UnfinishedRequestView[];
}

const REQUEST_NAMES: Record<string, string> = {
  "customers/data_request": "Customer data request",
  "customers/redact": "Erase a customer's data",
  "shop/redact": "Erase the shop's data",
};

/** What the page says of a request that names no customer or order the app could read. */
const NAMES_NOBODY = "Shopify's request could not be read, so it names no customer: nothing was looked up. Answer it by hand from your Shopify admin.";

/** The shop's customers/data_request webhooks, newest first, as the page shows them. */
/** `timeZone`: the shop's (shop-time-zone.server.ts), in which times are shown. */
export async function loadPrivacyPage(shop: string, timeZone: string = DEFAULT_TIME_ZONE): Promise<PrivacyPageView> {
  const where = { shop, topic: DATA_REQUEST_TOPIC };
  const [rows, total, failed] = await Promise.all([
    prisma.complianceRequest.findMany({ where, orderBy: [{ receivedAt: "desc" }, { id: "desc" }], take: PRIVACY_REQUESTS_SHOWN }),
    prisma.complianceRequest.count({ where }),
    prisma.complianceRequest.findMany({ where: { shop, status: "failed" }, orderBy: [{ receivedAt: "desc" }, { id: "desc" }], take: PRIVACY_REQUESTS_SHOWN }),
  ]);
  return {
    unfinished: failed.map((row) => ({
      id: row.id,
      what: REQUEST_NAMES[row.topic] ?? row.topic,
      receivedAt: formatDateTime(row.receivedAt, timeZone)!,
      customerId: row.customerId,
      customerUrl: row.customerId ? customerAdminUrl(shop, row.customerId) : null,
      attempts: row.attempts,
      lastAttemptAt: formatDateTime(row.lastAttemptAt, timeZone),
    })),
    requests: rows.map((row) => {
      const orderIds = orderIdsOf(row.orderIds);
      const downloadable = row.customerId !== null || orderIds.length > 0;
      return {
        id: row.id,
        receivedAt: formatDateTime(row.receivedAt, timeZone)!,
        customerId: row.customerId,
        customerUrl: row.customerId ? customerAdminUrl(shop, row.customerId) : null,
        orderIds: orderIds.slice(0, ORDER_IDS_SHOWN),
        ordersRequested: orderIds.length,
        outcome: downloadable ? row.outcome : NAMES_NOBODY,
        detail: downloadable ? null : row.outcome,
        downloadable,
      };
    }),
    total,
  };
}

function orderIdsOf(text: string | null): string[] {
  return text ? text.split(",").filter(Boolean) : [];
}

export const DataRequestDownloadSchema = z.object({
  intent: z.literal("download"),
  requestId: z.string().min(1).max(64),
});

export interface CustomerDataExport {
  fileName: string;
  /** Pretty-printed JSON: the request as Shopify sent it and every stored order of that customer. */
  json: string;
}

/**
 * What the app holds for the customer of one of the shop's data requests, as a JSON file for the
 * merchant to send to the buyer: each stored order (what was sent to Refersion, the order as
 * Shopify sent it, when personal data was removed). Read now, so an order redacted since shows
 * as such. Null when the shop has no such request. Only order data is included: the shop's keys
 * and sessions are not customer data and never leave the server.
 */
export async function exportCustomerData(shop: string, requestId: string, now = new Date()): Promise<CustomerDataExport | null> {
  const request = await prisma.complianceRequest.findFirst({ where: { id: requestId, shop, topic: DATA_REQUEST_TOPIC } });
  if (!request) return null;
  const orderIds = orderIdsOf(request.orderIds);
  const orders = await customerDataHeld(shop, { customerId: request.customerId, orderIds });
  const document = {
    shop,
    generatedAt: now.toISOString(),
    request: { receivedAt: request.receivedAt.toISOString(), customerId: request.customerId, ordersRequested: orderIds },
    orders,
  };
  const subject = request.customerId ? `customer-${request.customerId}` : `request-${request.id}`;
  return { fileName: `${subject}-data.json`, json: JSON.stringify(document, null, 2) };
}
