import type { ActionFunctionArgs } from "@remix-run/node";
import { logger } from "../logger.server";
import { hasRecordedInstall, markShopUninstalled, triggeredAtOf } from "../shops/uninstall.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * app/uninstalled: sessions are deleted and forwarding stops; the shop's data stays until
 * Shopify's shop/redact asks for its erasure. Safe when it arrives twice or late, also after a
 * reinstall (an uninstall triggered before the latest install is ignored). The body must be the
 * shop's own (handleWebhook): a signed body of another shop or topic uninstalls nothing.
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "app/uninstalled", {
    verified: async (webhook) => {
      // X-Shopify-Triggered-At is not covered by the signature; without it, the shop's
      // updated_at in the signed body bounds when the uninstall happened (never after it).
      const body = webhook.payload as { updated_at?: unknown };
      const triggeredAt =
        triggeredAtOf(request.headers.get("X-Shopify-Triggered-At")) ??
        (typeof body.updated_at === "string" ? triggeredAtOf(body.updated_at) : null);
      if (!triggeredAt && (await hasRecordedInstall(webhook.shop))) {
        logger.warn("uninstall without a time ignored: it could be an old one replayed after the latest install", { shop: webhook.shop });
        return;
      }
      await markShopUninstalled(webhook.shop, { triggeredAt });
    },
  });

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
