import type { ActionFunctionArgs } from "@remix-run/node";
import { redactCustomer } from "../privacy/compliance.server";
import { acknowledgeCompliance } from "../webhooks/compliance-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/** Mandatory: erase a customer's personal data from what we store; amounts and ids stay. */
export const action = async ({ request }: ActionFunctionArgs) =>
  acknowledgeCompliance(request, "customers/redact", (shop, payload) => redactCustomer(shop, payload));

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
