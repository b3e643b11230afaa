import type { ActionFunctionArgs } from "@remix-run/node";
import { ORDER_WEBHOOK_EFFECTS } from "../webhooks/order-webhooks.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/cancelled: verified by the library (forged HMAC -> 401) and refused (4xx) unless the body
 * fits the topic, recorded as a reversal of the order's commission in the outbox, and
 * acknowledged. The worker sends it after the order.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "orders/cancelled", ORDER_WEBHOOK_EFFECTS["orders/cancelled"]);

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
