/**
 * Links to the shop's own pages in Shopify's admin, opened in the top window (`target="_top"`):
 * the app runs in the admin's iframe, and these pages are the admin's, not the app's.
 * `https://<shop>/admin/...` is the address Shopify's admin answers for every store
 * (it redirects to admin.shopify.com/store/<store>/...).
 */
export function shopifyAdminUrl(shop: string, path: string): string {
  return `https://${shop}/admin/${path}`;
}

/** The customer's page in the Shopify admin; ids are Shopify's numeric customer ids. */
export function customerAdminUrl(shop: string, customerId: string): string {
  return shopifyAdminUrl(shop, `customers/${encodeURIComponent(customerId)}`);
}

/** The order's page in the Shopify admin; ids are Shopify's numeric order ids. */
export function orderAdminUrl(shop: string, orderId: string): string {
  return shopifyAdminUrl(shop, `orders/${encodeURIComponent(orderId)}`);
}
