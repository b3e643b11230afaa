import type { ActionFunctionArgs } from "@remix-run/node";
import { receiveConversionWebhook } from "../conversions/receive.server";

/**
 * Refersion's conversion webhooks for one shop, at the URL the settings page shows
 * (/refersion/conversions/<token>). Verified against the shop's signing secret before anything
 * is read (app/conversions/receive.server.ts).
 */
export const action = ({ request, params }: ActionFunctionArgs) => receiveConversionWebhook(request, params.token);

// Only POST is a webhook.
export const loader = () => new Response("Conversion webhooks are POST requests", { status: 405, headers: { Allow: "POST" } });
