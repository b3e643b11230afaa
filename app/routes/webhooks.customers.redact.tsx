import type { ActionFunctionArgs } from "@remix-run/node";
import { redactCustomer } from "../privacy/compliance.server";
import { acknowledgeCompliance } from "../webhooks/compliance-webhook.server";

/** Mandatory: erase a customer's personal data from what we store; amounts and ids stay. */
export const action = async ({ request }: ActionFunctionArgs) =>
  acknowledgeCompliance(request, (shop, payload) => redactCustomer(shop, payload));
