import type { ActionFunctionArgs } from "@remix-run/node";
import { redactShop } from "../privacy/compliance.server";
import { handleWebhook } from "../webhooks/handle-webhook.server";
import { rejectNonPostWebhook } from "../webhooks/receive-webhook.server";

/**
 * Mandatory, 48 hours after uninstall: delete everything the app holds for the shop. Only a body
 * of this topic naming the header's shop erases it (handleWebhook): the signature covers the body
 * alone, so a signed body that cannot be read, or names another shop, erases nothing. Nor does a
 * replay of the shop's own body once it installed again: Shopify is asked first (handleWebhook).
 */
export const action = async ({ request }: ActionFunctionArgs) =>
  handleWebhook(request, "shop/redact", { verified: (webhook) => redactShop(webhook.shop), onlyIfUninstalled: true });

// Only POST is a webhook: anything else is answered 405.
export const loader = rejectNonPostWebhook;
