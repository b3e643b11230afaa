/**
 * Refersion checkout pixel (docs/web-pixel.md). At checkout_completed it reads the click record
 * Refersion's storefront script left in the shop's localStorage and, only when a usable one
 * exists, tells the app which order it belongs to, so the app can credit the affiliate for orders
 * that never had a storefront cart (Buy it now, express wallets). Never throws into the pixel
 * manager: without this hint the order is still forwarded, only not credited this way.
 */
import { register, type BrowserSessionStorage } from "@shopify/web-pixels-extension";
import { CLICK_KEYS, checkoutTokenOf, clickOf, orderIdOf, reportUrlOf, shopOf, type CheckoutReport } from "./checkout-report";

/** Top frame's sessionStorage: the checkouts this tab has reported (a reloaded Thank you page gets a new sandbox). */
const REPORTED_KEY = "rfsn_pixel_reported";
const REPORTED_KEPT = 20;

interface Consent {
  marketingAllowed?: boolean;
  saleOfDataAllowed?: boolean;
}

/** Only an explicit refusal counts: the manager loaded the pixel, so consent was there. */
const allows = (consent: Consent | null | undefined) => consent?.marketingAllowed !== false && consent?.saleOfDataAllowed !== false;

async function reportedIn(storage: BrowserSessionStorage | undefined): Promise<string[]> {
  try {
    const list: unknown = JSON.parse((await storage?.getItem(REPORTED_KEY)) || "[]");
    return Array.isArray(list) ? list.filter((key): key is string => typeof key === "string") : [];
  } catch {
    return [];
  }
}

register(({ analytics, browser, init, settings, customerPrivacy }) => {
  try {
    const reportUrl = reportUrlOf(settings?.reportUrl);
    const shop = shopOf(init?.data?.shop?.myshopifyDomain);
    if (!reportUrl || !shop) return; // not set up: subscribe to nothing

    let allowed = allows(init.customerPrivacy);
    customerPrivacy?.subscribe?.("visitorConsentCollected", (event) => {
      allowed = allows(event?.customerPrivacy);
    });

    const session = typeof browser?.sessionStorage?.getItem === "function" ? browser.sessionStorage : undefined;
    // Claimed before the first await, so a second event for the same checkout stops here.
    const claimed = new Set<string>();

    const report = async (checkout: { order?: { id?: unknown } | null; token?: unknown } | null | undefined) => {
      const orderId = orderIdOf(checkout?.order?.id);
      if (!allowed || !orderId) return;
      const checkoutToken = checkoutTokenOf(checkout?.token);
      const key = checkoutToken ?? `order:${orderId}`;
      if (claimed.has(key)) return;
      claimed.add(key);

      const reported = await reportedIn(session);
      if (reported.includes(key)) return;
      const click = clickOf(await Promise.all(CLICK_KEYS.map((name) => browser.localStorage.getItem(name))));
      if (!click || !allowed) return;
      // Remembered before sending: at most one report per checkout, even if this one is lost.
      try {
        await session?.setItem(REPORTED_KEY, JSON.stringify([...reported, key].slice(-REPORTED_KEPT)));
      } catch {
        // this sandbox's claim still holds
      }

      const body: CheckoutReport = { shop, orderId, checkoutToken, click };
      // text/plain without credentials is a simple CORS request (no preflight); keepalive
      // lets it finish when the buyer leaves the page.
      await fetch(reportUrl, {
        method: "POST",
        keepalive: true,
        credentials: "omit",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(body),
      });
    };

    analytics.subscribe("checkout_completed", (event) => {
      try {
        report(event?.data?.checkout).catch(() => {});
      } catch {
        // see the file comment
      }
    });
  } catch {
    // an environment without the documented API: stay silent
  }
});
