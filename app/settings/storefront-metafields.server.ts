import { logger } from "../logger.server";
import { adminGraphqlData, AdminGraphqlError, type AdminGraphql } from "../storefront/admin-graphql.server";

/**
 * The app-data metafields the theme app embed reads (extensions/refersion-tracking/blocks):
 * `app.metafields.refersion.public_key` and `app.metafields.refersion.forwarding_enabled`.
 * They belong to the app installation, so only this app can write them and the storefront needs
 * no other access.
 */
export const STOREFRONT_METAFIELD_NAMESPACE = "refersion";

export interface StorefrontSettings {
  publicKey: string;
  forwardingEnabled: boolean;
}

export type StorefrontSyncResult = { ok: true } | { ok: false; problem: string };

const APP_INSTALLATION_QUERY = `#graphql
  query CurrentAppInstallation {
    currentAppInstallation { id }
  }`;

const METAFIELDS_SET_MUTATION = `#graphql
  mutation SetStorefrontSettings($metafields: [MetafieldsSetInput!]!) {
    metafieldsSet(metafields: $metafields) {
      metafields { namespace key }
      userErrors { field message code }
    }
  }`;

interface MetafieldsSetData {
  metafieldsSet: { metafields: { namespace: string; key: string }[] | null; userErrors: { field: string[] | null; message: string; code: string | null }[] } | null;
}

/** The metafieldsSet input for a shop's settings (the public key only: never the secret). */
export function storefrontMetafieldsInput(ownerId: string, settings: StorefrontSettings) {
  return [
    { ownerId, namespace: STOREFRONT_METAFIELD_NAMESPACE, key: "public_key", type: "single_line_text_field", value: settings.publicKey },
    {
      ownerId,
      namespace: STOREFRONT_METAFIELD_NAMESPACE,
      key: "forwarding_enabled",
      type: "boolean",
      value: settings.forwardingEnabled ? "true" : "false",
    },
  ];
}

/**
 * Writes the public key and the forwarding flag where the storefront embed reads them. A failure
 * is returned, not thrown: the settings are already saved and the merchant is told to save again.
 */
export async function writeStorefrontMetafields(graphql: AdminGraphql, shop: string, settings: StorefrontSettings): Promise<StorefrontSyncResult> {
  try {
    const installation = await adminGraphqlData<{ currentAppInstallation: { id: string } | null }>(graphql, APP_INSTALLATION_QUERY);
    const ownerId = installation.currentAppInstallation?.id;
    if (!ownerId) return fail(shop, "Shopify did not return the app installation");
    const result = await adminGraphqlData<MetafieldsSetData>(graphql, METAFIELDS_SET_MUTATION, {
      metafields: storefrontMetafieldsInput(ownerId, settings),
    });
    const userErrors = result.metafieldsSet?.userErrors ?? [];
    if (userErrors.length > 0) return fail(shop, `Shopify refused the values: ${userErrors.map((e) => e.message).join("; ")}`);
    if (!result.metafieldsSet) return fail(shop, "Shopify did not confirm the change");
    return { ok: true };
  } catch (error) {
    if (error instanceof AdminGraphqlError) return fail(shop, error.message);
    throw error;
  }
}

function fail(shop: string, problem: string): StorefrontSyncResult {
  logger.warn("storefront metafields not written", { shop, problem });
  return { ok: false, problem };
}
