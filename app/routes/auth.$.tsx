import type { LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  return null;
};

// Shopify's OAuth and session-token paths are all GET.
export const action = () => new Response("GET only", { status: 405, headers: { Allow: "GET" } });
