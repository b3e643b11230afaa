import type { ActionFunctionArgs } from "@remix-run/node";
import { redactShop } from "../privacy/compliance.server";
import { acknowledgeCompliance } from "../webhooks/compliance-webhook.server";

/** Mandatory, 48 hours after uninstall: delete everything the app holds for the shop. */
export const action = async ({ request }: ActionFunctionArgs) => acknowledgeCompliance(request, (shop) => redactShop(shop));
