import { releaseOrdersWaitingForKeys } from "../orders/release.server";
import { checkRefersionConnection } from "../settings/connection-check.server";
import type { SettingsForm } from "../settings/settings-form";
import { getShopSettings, hasKeys, saveShopSettings, toSettingsView, type SettingsView } from "../settings/shop-settings.server";
import { writeStorefrontMetafields } from "../settings/storefront-metafields.server";
import { syncCheckoutPixel } from "../attribution/web-pixel.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { connectionView, type ConnectionView } from "./connection-view";
import { DEFAULT_TIME_ZONE } from "./format";

/**
 * What the settings form starts from: the admin's view of the settings (the secret write-only:
 * only whether it is set and its last 4), without the connection check, which is shown apart.
 */
export type SettingsFormView = Omit<SettingsView, "connectionStatus" | "connectionCheckedAt">;

export interface SettingsPageView {
  settings: SettingsFormView;
  connection: ConnectionView;
}

/** `timeZone`: the shop's (shop-time-zone.server.ts), in which the last check's time is shown. */
export async function loadSettingsPage(shop: string, timeZone: string = DEFAULT_TIME_ZONE): Promise<SettingsPageView> {
  const stored = await getShopSettings(shop);
  const { connectionStatus: _status, connectionCheckedAt: _checkedAt, ...settings } = toSettingsView(stored);
  return {
    settings,
    connection: connectionView({ status: stored.connectionStatus, checkedAt: stored.connectionCheckedAt, hasKeys: hasKeys(stored), timeZone }),
  };
}

export interface SaveSettingsOutcome {
  /** Orders that were waiting for keys and are now queued. */
  released: number;
  /** Set when the storefront embed could not be told the new key / flag. */
  storefrontWarning: string | null;
  /** The outcome of testing the keys, when this save tested them (new keys, or never tested). */
  connection: ConnectionView | null;
}

/**
 * Saves validated settings, queues the orders that waited for keys, then tells the storefront
 * embed the public key and whether forwarding is on. The storefront step's failure is reported,
 * never undone: the saved settings stand. Keys without a check outcome (just changed, or never
 * tested) are then tested, so the merchant learns at once whether Refersion takes them.
 * Throws MissingSecretKeyError when no secret is given and none is saved.
 */
export async function saveSettingsFromAdmin(
  shop: string,
  graphql: AdminGraphql,
  form: SettingsForm,
  timeZone: string = DEFAULT_TIME_ZONE,
): Promise<SaveSettingsOutcome> {
  const saved = await saveShopSettings(shop, form);
  const released = await releaseOrdersWaitingForKeys(shop);
  const sync = await writeStorefrontMetafields(graphql, shop, {
    publicKey: saved.publicKey ?? form.publicKey,
    forwardingEnabled: saved.forwardingEnabled,
  });
  // The checkout pixel follows forwarding (on: created or updated; off: removed); its outcome is
  // recorded for the setup checklist and never fails the save.
  await syncCheckoutPixel(shop, graphql, saved.forwardingEnabled).catch(() => null);
  const connection = saved.connectionStatus === null ? await testConnectionFromAdmin(shop, timeZone) : null;
  return {
    released,
    connection,
    storefrontWarning: sync.ok
      ? null
      : `Your settings are saved, but the storefront tracking script could not be updated (${sync.problem}). Save again to retry.`,
  };
}

/** Tests the saved keys against Refersion's REST API and says what the outcome means. */
export async function testConnectionFromAdmin(shop: string, timeZone: string = DEFAULT_TIME_ZONE): Promise<ConnectionView> {
  const result = await checkRefersionConnection(shop);
  if (result.status === "no_keys") return connectionView({ status: null, checkedAt: null, hasKeys: false });
  return connectionView({ status: result.status, checkedAt: result.checkedAt, hasKeys: true, timeZone });
}
