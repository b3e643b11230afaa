import type { ActionFunctionArgs } from "@remix-run/node";
import { ORDER_WEBHOOK_EFFECTS } from "../webhooks/order-webhooks.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * refunds/create: verified by the library (forged HMAC -> 401) and refused (4xx) unless the body
 * fits the topic, recorded as a reversal of the refunded items in the outbox (or as skipped, with
 * why), and acknowledged.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "refunds/create", ORDER_WEBHOOK_EFFECTS["refunds/create"]);

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
