import type { PixelProblem, PixelStatus } from "@prisma/client";
import { GraphqlQueryError, HttpResponseError } from "@shopify/shopify-api";
import prisma from "../db.server";
import { env } from "../env.server";
import { logger } from "../logger.server";
import { OfflineAccessError } from "../shops/offline-access.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import { PIXEL_REPORT_PATH } from "./click-report";

/**
 * Turns the checkout pixel (extensions/refersion-checkout-pixel) on or off for a shop through the
 * Admin GraphQL API: Shopify runs an app's web pixel only once the app created it with its
 * settings. Called after install (the auth hook) and when the settings are saved; never throws:
 * the outcome is recorded on the shop (pixelStatus, pixelProblem) and shown in the setup
 * checklist. Idempotent: a pixel that exists (TAKEN) is updated, so the report URL follows the
 * app's URL.
 */

export { PIXEL_REPORT_PATH };

export function pixelReportUrl(appUrl = env().SHOPIFY_APP_URL): string {
  return new URL(PIXEL_REPORT_PATH, appUrl).href;
}

const USER_ERRORS = "userErrors { code field message }";
const CREATE = `#graphql
  mutation CreateCheckoutPixel($webPixel: WebPixelInput!) {
    webPixelCreate(webPixel: $webPixel) { webPixel { id settings } ${USER_ERRORS} }
  }`;
const UPDATE = `#graphql
  mutation UpdateCheckoutPixel($id: ID!, $webPixel: WebPixelInput!) {
    webPixelUpdate(id: $id, webPixel: $webPixel) { webPixel { id settings } ${USER_ERRORS} }
  }`;
const DELETE = `#graphql
  mutation DeleteCheckoutPixel($id: ID!) {
    webPixelDelete(id: $id) { deletedWebPixelId ${USER_ERRORS} }
  }`;
const CURRENT = `#graphql
  query CheckoutPixel { webPixel { id settings } }`;

interface UserError {
  code: string | null;
  message: string;
}
interface PixelAnswer {
  webPixel: { id: string } | null;
  userErrors: UserError[];
}

class PixelCallError extends Error {
  constructor(readonly problem: PixelProblem) {
    super(problem);
  }
}

/**
 * Shopify's GraphQL errors refusing access (a scope not granted) carry the code ACCESS_DENIED;
 * the library nests them differently by version, so the errors are searched as a whole.
 */
const isAccessDenied = (errors: unknown) => {
  try {
    return /"code":"ACCESS_DENIED"/.test(JSON.stringify(errors) ?? "");
  } catch {
    return false;
  }
};

/** One call; every failure becomes a PixelProblem. */
async function call<T>(graphql: AdminGraphql, query: string, variables?: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await graphql(query, variables ? { variables } : undefined);
  } catch (error) {
    if (error instanceof OfflineAccessError) throw new PixelCallError(error.needsMerchant ? "offline_access" : "shopify_unavailable");
    const status = error instanceof Response ? error.status : error instanceof HttpResponseError ? error.response.code : null;
    if (status === 401 || status === 403) throw new PixelCallError("access_denied");
    if (error instanceof GraphqlQueryError) throw new PixelCallError(isAccessDenied(error.body) ? "access_denied" : "unexpected_answer");
    throw new PixelCallError("shopify_unavailable");
  }
  if (!response.ok) throw new PixelCallError(response.status === 401 || response.status === 403 ? "access_denied" : "shopify_unavailable");
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: unknown } | null;
  if (body?.errors) throw new PixelCallError(isAccessDenied(body.errors) ? "access_denied" : "unexpected_answer");
  if (!body?.data) throw new PixelCallError("unexpected_answer");
  return body.data;
}

/** The pixel's id after a create or update, or why not. */
function outcomeOf(answer: PixelAnswer | null | undefined): string {
  if (!answer) throw new PixelCallError("unexpected_answer");
  if (answer.userErrors.length > 0 || !answer.webPixel?.id) throw new PixelCallError("settings_refused");
  return answer.webPixel.id;
}

async function connect(graphql: AdminGraphql, settings: string): Promise<string> {
  const created = await call<{ webPixelCreate: PixelAnswer | null }>(graphql, CREATE, { webPixel: { settings } });
  if (!created.webPixelCreate?.userErrors.some((error) => error.code === "TAKEN")) return outcomeOf(created.webPixelCreate);
  // The app's pixel exists already (an earlier install, another save): update it.
  const current = await call<{ webPixel: { id: string } | null }>(graphql, CURRENT);
  if (!current.webPixel?.id) throw new PixelCallError("unexpected_answer");
  const updated = await call<{ webPixelUpdate: PixelAnswer | null }>(graphql, UPDATE, { id: current.webPixel.id, webPixel: { settings } });
  return outcomeOf(updated.webPixelUpdate);
}

/** Removes the app's pixel, if there is one. */
async function remove(graphql: AdminGraphql): Promise<void> {
  const current = await call<{ webPixel: { id: string } | null }>(graphql, CURRENT).catch((error: unknown) => {
    // Shopify answers an app without a pixel with an error: nothing to remove.
    if (error instanceof PixelCallError && error.problem === "unexpected_answer") return { webPixel: null };
    throw error;
  });
  if (!current.webPixel?.id) return;
  const deleted = await call<{ webPixelDelete: { deletedWebPixelId: string | null; userErrors: UserError[] } | null }>(graphql, DELETE, { id: current.webPixel.id });
  const errors = deleted.webPixelDelete?.userErrors ?? [];
  if (errors.length > 0 && !errors.every((error) => error.code === "NOT_FOUND")) throw new PixelCallError("settings_refused");
}

export interface PixelSyncResult {
  status: PixelStatus;
  problem: PixelProblem | null;
}

/**
 * Creates (or updates) the shop's pixel while forwarding is on, deletes it when forwarding is
 * off, and records the outcome. Never throws for Shopify's answers (only if the outcome cannot be
 * recorded).
 */
export async function syncCheckoutPixel(shop: string, graphql: AdminGraphql, forwardingEnabled: boolean, now = new Date()): Promise<PixelSyncResult> {
  let result: PixelSyncResult;
  let webPixelId: string | null | undefined;
  try {
    if (forwardingEnabled) {
      webPixelId = await connect(graphql, JSON.stringify({ reportUrl: pixelReportUrl() }));
      result = { status: "connected", problem: null };
    } else {
      await remove(graphql);
      webPixelId = null;
      result = { status: "removed", problem: null };
    }
  } catch (error) {
    const problem = error instanceof PixelCallError ? error.problem : "unexpected_answer";
    result = { status: "not_connected", problem };
    logger.warn("checkout pixel not set", { shop, problem, ...(error instanceof PixelCallError ? {} : { error: error instanceof Error ? error.name : typeof error }) });
  }
  const data = { pixelStatus: result.status, pixelProblem: result.problem, pixelCheckedAt: now, ...(webPixelId !== undefined ? { webPixelId } : {}) };
  await prisma.shopSettings.upsert({ where: { shop }, create: { shop, ...data }, update: data });
  return result;
}

/** What the setup checklist shows of the pixel. */
export async function pixelStateOf(shop: string): Promise<PixelSyncResult & { checkedAt: Date | null }> {
  const row = await prisma.shopSettings.findUnique({ where: { shop }, select: { pixelStatus: true, pixelProblem: true, pixelCheckedAt: true } });
  return { status: row?.pixelStatus ?? "not_connected", problem: row?.pixelProblem ?? null, checkedAt: row?.pixelCheckedAt ?? null };
}
