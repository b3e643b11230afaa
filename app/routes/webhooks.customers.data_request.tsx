import type { ActionFunctionArgs } from "@remix-run/node";
import { recordCustomerDataRequest } from "../privacy/compliance.server";
import { acknowledgeCompliance } from "../webhooks/compliance-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/** Mandatory: a customer asked the shop for their data. Recorded; what we hold is in the admin. */
export const action = async ({ request }: ActionFunctionArgs) =>
  acknowledgeCompliance(request, "customers/data_request", (shop, payload) => recordCustomerDataRequest(shop, payload));

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
