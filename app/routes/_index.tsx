import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";

// Shopify opens the app at /app; a visit to / with a shop parameter is sent there.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  if (url.searchParams.get("shop")) {
    throw redirect(`/app?${url.searchParams.toString()}`);
  }
  return new Response("Refersion order forwarding for Shopify. Install it from the Shopify admin.", {
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
};
