import type { ActionFunctionArgs } from "@remix-run/node";
import { receiveWebhook, rejectNonPostWebhook } from "../webhooks/receive-webhook.server";
import { markShopUninstalled } from "../shops/uninstall.server";

/**
 * app/uninstalled: sessions are deleted and forwarding stops; the shop's data stays until
 * Shopify's shop/redact asks for its erasure. Safe when it arrives twice or late.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  // The shop comes from verified headers either way; the body is not needed.
  await markShopUninstalled(webhook.shop);
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
