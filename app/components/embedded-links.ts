import { useLocation } from "@remix-run/react";
import { useCallback } from "react";

/**
 * The query parameters Shopify's admin opens the app with. Inside the admin, App Bridge adds a
 * session token to every request the app makes; without App Bridge (its script blocked, or in
 * a test browser) the server can only authenticate a request that still carries them. Internal
 * links keep them, which changes nothing when App Bridge is present.
 */
const EMBEDDED_PARAMS = ["embedded", "shop", "host", "id_token", "locale"] as const;

export function embeddedHref(currentSearch: string, pathname: string, params: Record<string, string | number | null | undefined> = {}): string {
  const current = new URLSearchParams(currentSearch);
  const next = new URLSearchParams();
  for (const name of EMBEDDED_PARAMS) {
    const value = current.get(name);
    if (value !== null) next.set(name, value);
  }
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") next.set(name, String(value));
  }
  const query = next.toString();
  return query ? `${pathname}?${query}` : pathname;
}

/** Builds links to other pages of the app that keep the embedded parameters of the current URL. */
export function useAppHref() {
  const { search } = useLocation();
  return useCallback(
    (pathname: string, params?: Record<string, string | number | null | undefined>) => embeddedHref(search, pathname, params),
    [search],
  );
}
