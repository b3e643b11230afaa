import { LoginErrorType, type LoginError } from "@shopify/shopify-app-remix/server";

/** What the login page says about the shop domain the library refused. */
export function loginErrorMessage(error: LoginError): { shop?: string } {
  if (error?.shop === LoginErrorType.MissingShop) return { shop: "Enter your shop domain to log in" };
  if (error?.shop === LoginErrorType.InvalidShop) return { shop: "Enter a valid shop domain, like example.myshopify.com" };
  return {};
}
