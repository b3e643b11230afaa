import { logger } from "../logger.server";
import { offlineAccess } from "../shopify.server";
import { OfflineAccessError } from "../shops/offline-access.server";
import { isKnownShop } from "../shops/known-shop.server";
import { alreadyProcessed, recordProcessed } from "./receipts.server";
import { isUnreadable, receiveWebhook, type UnreadableWebhook, type VerifiedWebhook } from "./receive-webhook.server";
import { payloadProblem, type WebhookTopic } from "./topic-payloads";

export interface WebhookEffects {
  /** The topic's effect on a verified body that fits the topic and names the header's shop. */
  verified: (webhook: VerifiedWebhook) => Promise<void>;
  /**
   * What a signed body that cannot be read is recorded as. Without it (topics that erase or
   * uninstall), nothing is done: such a body cannot show which topic or shop it was signed for.
   */
  unreadable?: (webhook: UnreadableWebhook) => Promise<void>;
  /**
   * The effect cannot be undone (an uninstall, an erasure): it is done only once Shopify does not
   * confirm the app installed on the shop. Signed bodies can be replayed, and the webhook id and
   * X-Shopify-Triggered-At headers are not signed, so an old uninstall or shop/redact of a shop
   * that installed again would otherwise erase an installed shop.
   */
  onlyIfUninstalled?: boolean;
}

/** Seconds Shopify is asked to wait before sending again a webhook that could not be decided. */
const UNDECIDED_RETRY_AFTER_SECONDS = 60;

/**
 * Null when the effect may go ahead; otherwise the answer: 200 when Shopify says the app is
 * installed (a replayed or stale webhook: nothing is done), 503 when Shopify could not be asked
 * (it sends the webhook again later; nothing is erased on doubt).
 */
async function refusedWhileInstalled(shop: string, log: typeof logger): Promise<Response | null> {
  let status;
  try {
    status = await offlineAccess.installationStatus(shop);
  } catch (error) {
    if (!(error instanceof OfflineAccessError)) throw error;
    log.warn("webhook not acted on yet: whether the app is still installed is unknown", { failure: error.failure });
    return new Response("Could not confirm the uninstall with Shopify; send again later", {
      status: 503,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Retry-After": String(UNDECIDED_RETRY_AFTER_SECONDS) },
    });
  }
  if (status !== "installed") return null;
  log.warn("webhook ignored: Shopify says the app is still installed (a replayed or stale delivery)");
  return new Response(null, { status: 200 });
}

/** Unknown shops whose webhooks are logged, and how often each, bounded both ways. */
const MAX_LOGGED_UNKNOWN_SHOPS = 1_000;
const MAX_LOGS_PER_UNKNOWN_SHOP = 10;
const unknownShopLogs = new Map<string, number>();

function logUnknownShop(shop: string, log: typeof logger) {
  const count = unknownShopLogs.get(shop) ?? 0;
  if (count >= MAX_LOGS_PER_UNKNOWN_SHOP) return;
  if (count === 0 && unknownShopLogs.size >= MAX_LOGGED_UNKNOWN_SHOPS) return;
  unknownShopLogs.set(shop, count + 1);
  log.warn("webhook of a shop that never installed the app: acknowledged, nothing stored");
}

function refusedBody(status: number, text: string): Response {
  return new Response(text, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/**
 * Every webhook route, in one order: the signature and this route's topic (receiveWebhook), a
 * delivery already processed (acknowledged, nothing done), a shop that never installed the app
 * (acknowledged, nothing stored), the body fitting the topic and the shop, then the effect, and
 * the receipt once it is done. A refusal is a 4xx (Shopify's retries
 * of a refused body change nothing either), logged with the reason; only an effect done, a repeat
 * of one, or an uninstall or erasure Shopify contradicts (onlyIfUninstalled) is a 200. An
 * uninstall or erasure that could not be confirmed with Shopify is a 503, for Shopify to retry.
 */
export async function handleWebhook(request: Request, topic: WebhookTopic, effects: WebhookEffects): Promise<Response> {
  return actOnWebhook(await receiveWebhook(request, topic), topic, effects);
}

/**
 * handleWebhook after the signature and the topic are checked: also how a webhook acknowledged on
 * the fast path (received-webhooks.server.ts) is acted on later, with the same answer (logged there).
 */
export async function actOnWebhook(webhook: VerifiedWebhook | UnreadableWebhook, topic: WebhookTopic, effects: WebhookEffects): Promise<Response> {
  const ids = { topic, webhookId: webhook.webhookId, eventId: webhook.eventId };
  const log = logger.child({ shop: webhook.shop, topic, webhookId: webhook.webhookId, eventId: webhook.eventId });
  if (await alreadyProcessed(ids)) {
    log.info("webhook already processed: acknowledged, nothing done");
    return new Response(null, { status: 200 });
  }
  if (!(await isKnownShop(webhook.shop))) {
    // Signed bodies can be replayed with any shop domain: nothing of them is kept for a shop the
    // app does not know (not even a receipt; an uninstall or erasure would have nothing to act
    // on), and the log about them is bounded per shop and in shops.
    logUnknownShop(webhook.shop, log);
    return new Response(null, { status: 200 });
  }
  if (isUnreadable(webhook)) {
    if (!effects.unreadable) {
      log.warn("webhook refused: unreadable body, not acted on", { reason: webhook.reason });
      return refusedBody(422, `Not acted on: ${webhook.reason}`);
    }
    await effects.unreadable(webhook);
  } else {
    const problem = payloadProblem(topic, webhook.payload, webhook.shop);
    if (problem) {
      log.warn("webhook refused: the body does not fit the topic", { reason: problem });
      return refusedBody(422, `The body does not fit ${topic}: ${problem}`);
    }
    if (effects.onlyIfUninstalled) {
      const answer = await refusedWhileInstalled(webhook.shop, log);
      // Not recorded as processed: nothing was done.
      if (answer) return answer;
    }
    await effects.verified(webhook);
  }
  await recordProcessed(ids);
  return new Response(null, { status: 200 });
}
