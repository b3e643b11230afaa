import type { ActionFunctionArgs } from "@remix-run/node";
import { ORDER_WEBHOOK_EFFECTS } from "../webhooks/order-webhooks.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/paid: verified by the library (forged HMAC -> 401) and refused (4xx) unless the body fits
 * the topic, then either releases the order waiting for payment (the "paid" trigger) or records it
 * if orders/create never did. Acknowledged at once; Refersion is called by the delivery worker.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "orders/paid", ORDER_WEBHOOK_EFFECTS["orders/paid"]);

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
