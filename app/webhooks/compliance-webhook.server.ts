import { logger } from "../logger.server";
import { isUnreadable, receiveWebhook } from "./receive-webhook.server";

/**
 * Verifies a compliance webhook (forged -> 401), runs its effect, and answers 200. A signed
 * body that is not JSON is acknowledged and logged: there is nothing to act on.
 */
export async function acknowledgeCompliance(request: Request, effect: (shop: string, payload: unknown) => Promise<void>): Promise<Response> {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    logger.warn("unreadable compliance webhook", { shop: webhook.shop, topic: webhook.topic, webhookId: webhook.webhookId });
    return new Response(null, { status: 200 });
  }
  await effect(webhook.shop, webhook.payload);
  return new Response(null, { status: 200 });
}
