import type { ActionFunctionArgs } from "@remix-run/node";
import { redactShop } from "../privacy/compliance.server";
import { receiveWebhook, rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * Mandatory, 48 hours after uninstall: delete everything the app holds for the shop. The shop
 * comes from the verified headers, so even a body that cannot be read erases it.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const webhook = await receiveWebhook(request);
  await redactShop(webhook.shop);
  return new Response(null, { status: 200 });
};

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
