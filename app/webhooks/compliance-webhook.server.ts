import { recordUnreadableComplianceRequest } from "../privacy/compliance.server";
import { logger } from "../logger.server";
import { isUnreadable, receiveWebhook } from "./receive-webhook.server";

/**
 * Verifies a customers/* compliance webhook (forged -> 401), runs its effect, and answers 200.
 * A signed body that cannot be read names no customer to act on: it is recorded with the reason
 * (the merchant must answer that request by hand) and acknowledged.
 */
export async function acknowledgeCompliance(
  request: Request,
  topic: "customers/data_request" | "customers/redact",
  effect: (shop: string, payload: unknown) => Promise<void>,
): Promise<Response> {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    logger.warn("unreadable compliance webhook", { shop: webhook.shop, topic, webhookId: webhook.webhookId, reason: webhook.reason });
    await recordUnreadableComplianceRequest(webhook.shop, topic, webhook.reason);
    return new Response(null, { status: 200 });
  }
  await effect(webhook.shop, webhook.payload);
  return new Response(null, { status: 200 });
}
