import type { ConnectionStatus, ShopSettings } from "@prisma/client";
import prisma from "../db.server";
import { appSecretEnv, encryptionEnv } from "../env.server";
import { registerSecret } from "../logger.server";
import type { MappingOptions } from "../refersion/conversion";
import type { RefersionKeys } from "../refersion/client.server";
import { openSecret, sealSecret } from "./secret-box.server";
import type { SettingsForm } from "./settings-form";

/** Settings of a shop that has never saved any: forwarding on, nothing to forward with yet. */
export const DEFAULT_SETTINGS = {
  publicKey: null,
  secretKeyCiphertext: null,
  secretKeyKeyId: null,
  secretKeyLast4: null,
  forwardingEnabled: true,
  currency: "shop",
  forwardTestOrders: false,
  sendCustomerDetails: true,
  autoCreditAffiliate: false,
  forwardTrigger: "created",
  reverseCancellations: true,
  reverseRefunds: true,
  connectionStatus: null,
  connectionCheckedAt: null,
  uninstalledAt: null,
  offlineAccessProblem: null,
  offlineAccessProblemAt: null,
  clickDataWaitMinutes: 5,
  pixelStatus: null,
} as const;

// scopesUpdatedAt belongs to the shop's sessions (app/shops/scopes-update.server.ts), setupGuideDismissedAt to the
// admin's home page (app/settings/setup-guide.server.ts), the checkout pixel's details to
// app/attribution/web-pixel.server.ts (its status is read: an order waits for click data only
// while the pixel is connected): none is about forwarding.
export type StoredSettings = Omit<
  ShopSettings,
  "createdAt" | "updatedAt" | "installedAt" | "scopesUpdatedAt" | "setupGuideDismissedAt" | "pixelProblem" | "webPixelId" | "pixelCheckedAt"
> & { installedAt?: Date };

export async function getShopSettings(shop: string): Promise<StoredSettings> {
  const row = await prisma.shopSettings.findUnique({ where: { shop } });
  return row ?? { shop, ...DEFAULT_SETTINGS };
}

/** Several shops' settings in one query, in the order asked (defaults for shops never saved). */
export async function getManyShopSettings(shops: readonly string[]): Promise<StoredSettings[]> {
  const rows = await prisma.shopSettings.findMany({ where: { shop: { in: [...new Set(shops)] } } });
  const byShop = new Map(rows.map((row) => [row.shop, row]));
  return shops.map((shop) => byShop.get(shop) ?? { shop, ...DEFAULT_SETTINGS });
}

/** What the admin may see of a shop's settings: never the secret, only that it is set. */
export interface SettingsView {
  publicKey: string;
  secretKeySet: boolean;
  secretKeyLast4: string | null;
  forwardingEnabled: boolean;
  currency: "shop" | "presentment";
  forwardTestOrders: boolean;
  sendCustomerDetails: boolean;
  autoCreditAffiliate: boolean;
  forwardTrigger: "created" | "paid";
  reverseCancellations: boolean;
  reverseRefunds: boolean;
  clickDataWaitMinutes: number;
  connectionStatus: ConnectionStatus | null;
  connectionCheckedAt: string | null;
}

export function toSettingsView(settings: StoredSettings): SettingsView {
  return {
    publicKey: settings.publicKey ?? "",
    secretKeySet: Boolean(settings.secretKeyCiphertext),
    secretKeyLast4: settings.secretKeyLast4,
    forwardingEnabled: settings.forwardingEnabled,
    currency: settings.currency === "presentment" ? "presentment" : "shop",
    forwardTestOrders: settings.forwardTestOrders,
    sendCustomerDetails: settings.sendCustomerDetails,
    autoCreditAffiliate: settings.autoCreditAffiliate,
    forwardTrigger: settings.forwardTrigger === "paid" ? "paid" : "created",
    reverseCancellations: settings.reverseCancellations,
    reverseRefunds: settings.reverseRefunds,
    clickDataWaitMinutes: settings.clickDataWaitMinutes,
    connectionStatus: settings.connectionStatus,
    connectionCheckedAt: settings.connectionCheckedAt?.toISOString() ?? null,
  };
}

export class MissingSecretKeyError extends Error {
  override name = "MissingSecretKeyError";
  constructor() {
    super("Enter your Refersion secret key");
  }
}

/**
 * Saves validated settings. A blank secret keeps the saved one; a new one is sealed with
 * APP_ENCRYPTION_KEY. Keys changing invalidates the last connection check.
 */
export async function saveShopSettings(shop: string, form: SettingsForm): Promise<StoredSettings> {
  const current = await getShopSettings(shop);
  const newSecret = form.secretKey ? form.secretKey : null;
  if (!newSecret && !current.secretKeyCiphertext) throw new MissingSecretKeyError();
  const sealed = newSecret ? sealSecret(newSecret, encryptionEnv().APP_ENCRYPTION_KEY) : null;
  const keysChanged = Boolean(sealed) || form.publicKey !== current.publicKey;
  const data = {
    publicKey: form.publicKey,
    ...(sealed
      ? { secretKeyCiphertext: sealed.ciphertext, secretKeyKeyId: sealed.keyId, secretKeyLast4: newSecret!.slice(-4) }
      : {}),
    forwardingEnabled: form.forwardingEnabled,
    currency: form.currency,
    forwardTestOrders: form.forwardTestOrders,
    sendCustomerDetails: form.sendCustomerDetails,
    autoCreditAffiliate: form.autoCreditAffiliate,
    forwardTrigger: form.forwardTrigger ?? current.forwardTrigger,
    reverseCancellations: form.reverseCancellations ?? current.reverseCancellations,
    reverseRefunds: form.reverseRefunds ?? current.reverseRefunds,
    clickDataWaitMinutes: form.clickDataWaitMinutes ?? current.clickDataWaitMinutes,
    ...(keysChanged ? { connectionStatus: null, connectionCheckedAt: null } : {}),
  };
  return prisma.shopSettings.upsert({ where: { shop }, create: { shop, ...data }, update: data });
}

/** The shop's Refersion keys, decrypted, or null when none are saved. */
export function refersionKeysOf(settings: StoredSettings): RefersionKeys | null {
  if (!settings.publicKey || !settings.secretKeyCiphertext || !settings.secretKeyKeyId) return null;
  const config = encryptionEnv();
  const keys = [config.APP_ENCRYPTION_KEY, config.APP_ENCRYPTION_KEY_PREVIOUS].filter((k): k is string => Boolean(k));
  const secretKey = openSecret({ ciphertext: settings.secretKeyCiphertext, keyId: settings.secretKeyKeyId }, keys);
  registerSecret(secretKey);
  return { publicKey: settings.publicKey, secretKey };
}

export function hasKeys(settings: StoredSettings): boolean {
  return Boolean(settings.publicKey && settings.secretKeyCiphertext);
}

/** How this shop's orders are mapped to Refersion's JSON. */
export function mappingOptionsFor(settings: StoredSettings): MappingOptions {
  return {
    shop: settings.shop,
    currency: settings.currency === "presentment" ? "presentment" : "shop",
    includeCustomer: settings.sendCustomerDetails,
    autoCreditAffiliate: settings.autoCreditAffiliate,
    // Stable per app and never sent anywhere: derived cart ids cannot be guessed from order ids.
    cartIdSecret: appSecretEnv().SHOPIFY_API_SECRET,
  };
}
