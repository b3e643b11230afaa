import type { ActionFunctionArgs } from "@remix-run/node";
import { receiveWebhook, rejectNonPostWebhook } from "../webhooks/receive-webhook.server";
import { markShopUninstalled, triggeredAtOf } from "../shops/uninstall.server";

/**
 * app/uninstalled: sessions are deleted and forwarding stops; the shop's data stays until
 * Shopify's shop/redact asks for its erasure. Safe when it arrives twice or late, also after a
 * reinstall (an uninstall triggered before the latest install is ignored).
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  // Shopify's signature covers the body, not this header: a replayed uninstall with an altered
  // time can only be ignored, or act as it would have without the header.
  const triggeredAt = triggeredAtOf(request.headers.get("X-Shopify-Triggered-At"));
  const webhook = await receiveWebhook(request);
  // The shop comes from verified headers either way; the body is not needed.
  await markShopUninstalled(webhook.shop, { triggeredAt });
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
