import type { ActionFunctionArgs } from "@remix-run/node";
import { logger } from "../logger.server";
import { hasRecordedInstall, markShopUninstalled, triggeredAtOf } from "../shops/uninstall.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * app/uninstalled: sessions are deleted and forwarding stops; the shop's data stays until
 * Shopify's shop/redact asks for its erasure. Safe when it arrives twice or late, also after a
 * reinstall (an uninstall triggered before the latest install is ignored, and Shopify is asked
 * whether the app is still installed first). The body must be the shop's own (handleWebhook): a
 * signed body of another shop or topic uninstalls nothing.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "app/uninstalled", {
    verified: async (webhook) => {
      // The shop's updated_at is signed, and bounds when the uninstall happened (never after it);
      // X-Shopify-Triggered-At is not signed (anyone replaying an old body can make it fresh), so
      // it is used only when the body carries no time.
      const body = webhook.payload as { updated_at?: unknown };
      const triggeredAt =
        (typeof body.updated_at === "string" ? triggeredAtOf(body.updated_at) : null) ??
        triggeredAtOf(request.headers.get("X-Shopify-Triggered-At"));
      if (!triggeredAt && (await hasRecordedInstall(webhook.shop))) {
        logger.warn("uninstall without a time ignored: it could be an old one replayed after the latest install", { shop: webhook.shop });
        return;
      }
      await markShopUninstalled(webhook.shop, { triggeredAt });
    },
    onlyIfUninstalled: true,
  });

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
