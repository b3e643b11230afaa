import type { ActionFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import { markShopUninstalled } from "../shops/uninstall.server";

/**
 * app/uninstalled: sessions are deleted and forwarding stops; the shop's data stays until
 * Shopify's shop/redact asks for its erasure. Safe when it arrives twice or late.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop } = await authenticate.webhook(request);
  await markShopUninstalled(shop);
  return new Response(null, { status: 200 });
};
