import type { ActionFunctionArgs } from "@remix-run/node";
import { acceptScopesUpdateWebhook, ignoreUnusableScopesUpdate } from "../shops/scopes-update.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * app/scopes_update: the shop granted or revoked access scopes, and its sessions get the scopes
 * now granted. An update older than the scope already stored is ignored, so a late or repeated
 * delivery is harmless. A body without the topic's shape is refused (handleWebhook); one that
 * cannot be read is logged with the reason and acknowledged.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "app/scopes_update", {
    verified: async (webhook) => {
      await acceptScopesUpdateWebhook({
        shop: webhook.shop,
        webhookId: webhook.webhookId ?? null,
        payload: webhook.payload,
        // Only a fallback for a body without updated_at: the header is not covered by the signature.
        triggeredAtHeader: request.headers.get("X-Shopify-Triggered-At"),
      });
    },
    unreadable: async (webhook) => ignoreUnusableScopesUpdate({ shop: webhook.shop, webhookId: webhook.webhookId, reason: webhook.reason }),
  });

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
