import { recordUnreadableComplianceRequest } from "../privacy/compliance.server";
import { logger } from "../logger.server";
import { handleWebhook } from "./handle-webhook.server";

/**
 * A customers/* compliance webhook (forged -> 401): its effect on a body that fits the topic and
 * names the header's shop. A signed body that cannot be read names no customer to act on: it is
 * recorded with the reason (the merchant must answer that request by hand) and acknowledged.
 */
export async function acknowledgeCompliance(
  request: Request,
  topic: "customers/data_request" | "customers/redact",
  effect: (shop: string, payload: unknown) => Promise<void>,
): Promise<Response> {
  return handleWebhook(request, topic, {
    verified: (webhook) => effect(webhook.shop, webhook.payload),
    unreadable: async (webhook) => {
      logger.warn("unreadable compliance webhook", { shop: webhook.shop, topic, webhookId: webhook.webhookId, reason: webhook.reason });
      await recordUnreadableComplianceRequest(webhook.shop, topic, webhook.reason);
    },
  });
}
