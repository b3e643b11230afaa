import type { ActionFunctionArgs } from "@remix-run/node";
import { ORDER_WEBHOOK_EFFECTS } from "../webhooks/order-webhooks.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * orders/create: verified by the library (forged HMAC -> 401) and refused (4xx) unless the body
 * fits the topic, recorded in the outbox, and acknowledged at once. Refersion is called later by
 * the delivery worker, never from here.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "orders/create", ORDER_WEBHOOK_EFFECTS["orders/create"]);

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
