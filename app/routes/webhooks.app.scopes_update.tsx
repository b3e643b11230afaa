import type { ActionFunctionArgs } from "@remix-run/node";
import { acceptScopesUpdateWebhook, ignoreUnusableScopesUpdate } from "../shops/scopes-update.server";
import { isUnreadable, receiveWebhook, rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * app/scopes_update: the shop granted or revoked access scopes, and its sessions get the scopes
 * now granted. An update older than the scope already stored is ignored, so a late or repeated
 * delivery is harmless. A body that cannot be used is logged with the reason and acknowledged.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  if (isUnreadable(webhook)) {
    ignoreUnusableScopesUpdate({ shop: webhook.shop, webhookId: webhook.webhookId, reason: webhook.reason });
  } else {
    await acceptScopesUpdateWebhook({
      shop: webhook.shop,
      webhookId: webhook.webhookId ?? null,
      payload: webhook.payload,
      // Only a fallback for a body without updated_at: the header is not covered by the signature.
      triggeredAtHeader: request.headers.get("X-Shopify-Triggered-At"),
    });
  }
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
