import { HttpResponseError, type Session, type Shopify } from "@shopify/shopify-api";
import { logger, type LogFields } from "../logger.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import {
  clearOfflineAccessProblem,
  offlineAccessProblemText,
  recordOfflineAccessProblem,
  type OfflineAccessProblem,
} from "./offline-access-problem.server";

/**
 * Every use of a shop's offline access token goes through here: the backfill and the shop
 * command line (through `graphqlFor`), and the admin when the merchant opens the app
 * (`convertOnOpen`, from `authenticate.admin` in app/shopify.server.ts).
 *
 * Offline tokens expire (an hour) and come with a refresh token that Shopify rotates on every
 * use (docs/decisions/0005-expiring-offline-tokens.md). This module:
 * - refreshes a token that is expired or within RENEW_WITHIN_MS of it, once per shop at a time
 *   in this process (two callers must not spend one refresh token twice: the second would be
 *   refused), and re-reads the stored session first, so a token another process renewed is used
 *   instead of renewed again;
 * - converts a non-expiring token (a shop installed before expiring tokens) into an expiring one;
 * - stores what it gets through the session storage, and clears any recorded problem;
 * - sorts failures: Shopify refusing (a 4xx from its token endpoint, a refresh token past its
 *   expiry, no token at all) needs the merchant to open the app, and is recorded for the admin
 *   and logged; Shopify unreachable or failing (network error, 5xx, 429) is worth trying again.
 */

/** The same margin as Shopify's library: a token this close to expiry is renewed before use. */
export const RENEW_WITHIN_MS = 5 * 60 * 1000;

export type OfflineAccessFailure = OfflineAccessProblem | "shopify_unavailable";

export class OfflineAccessError extends Error {
  override name = "OfflineAccessError";
  constructor(
    readonly shop: string,
    readonly failure: OfflineAccessFailure,
    message: string,
  ) {
    super(message);
  }

  /** Only the merchant can fix it (by opening the app); otherwise trying again later can. */
  get needsMerchant(): boolean {
    return this.failure !== "shopify_unavailable";
  }
}

/** The session storage calls this module makes (PrismaSessionStorage in the app). */
export interface OfflineSessionStorage {
  loadSession(id: string): Promise<Session | undefined>;
  storeSession(session: Session): Promise<boolean>;
  deleteSession(id: string): Promise<boolean>;
}

export interface OfflineAccessDeps {
  /** Shopify's API library, configured with the app's credentials. */
  api: Pick<Shopify, "auth" | "clients" | "session">;
  sessionStorage: OfflineSessionStorage;
}

/** A usable token that is not about to expire. A non-expiring token is usable but to be converted. */
function isFresh(session: Session): boolean {
  return Boolean(session.accessToken) && session.expires !== undefined && !session.isExpired(RENEW_WITHIN_MS);
}

/** Shopify's token endpoint said no (4xx), as opposed to being unreachable, failing or busy. */
function refusalStatus(error: unknown): number | null {
  if (!(error instanceof HttpResponseError)) return null;
  const status = error.response.code;
  return status >= 400 && status < 500 && status !== 408 && status !== 429 ? status : null;
}

/** What a failed call to the token endpoint may be logged with: its status and Shopify's error code. */
function failureFields(error: unknown): LogFields {
  if (error instanceof HttpResponseError) {
    const body = error.response.body as { error?: unknown } | undefined;
    const code = typeof body?.error === "string" && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
    return { status: error.response.code, shopifyError: code };
  }
  // Network failures and unreadable answers: the error's class says enough, its text may quote a URL.
  return { error: error instanceof Error ? error.name : typeof error };
}

export function createOfflineAccess(deps: OfflineAccessDeps) {
  const { api, sessionStorage } = deps;
  const inFlight = new Map<string, Promise<Session>>();

  async function load(shop: string): Promise<Session | null> {
    return (await sessionStorage.loadSession(api.session.getOfflineId(shop))) ?? null;
  }

  async function needsMerchant(shop: string, problem: OfflineAccessProblem, details: LogFields = {}): Promise<OfflineAccessError> {
    await recordOfflineAccessProblem(shop, problem, details);
    return new OfflineAccessError(shop, problem, offlineAccessProblemText(problem));
  }

  async function stored(renewed: Session, how: "refreshed" | "converted"): Promise<Session> {
    await sessionStorage.storeSession(renewed);
    await clearOfflineAccessProblem(renewed.shop);
    logger.info(`offline access token ${how}`, { shop: renewed.shop, expires: renewed.expires?.toISOString() ?? null });
    return renewed;
  }

  /**
   * After the token endpoint failed: a refusal is recorded, unless a fresh session was stored
   * meanwhile (another process renewed the token, which is why ours was refused); anything else
   * is reported as worth trying again.
   */
  async function failed(session: Session, problem: OfflineAccessProblem, error: unknown): Promise<Session> {
    const shop = session.shop;
    if (refusalStatus(error) !== null) {
      const latest = await load(shop);
      if (latest && isFresh(latest) && latest.accessToken !== session.accessToken) return latest;
      throw await needsMerchant(shop, problem, failureFields(error));
    }
    const fields = failureFields(error);
    logger.warn("offline access token not renewed, will try again", { shop, ...fields });
    const reason = typeof fields.status === "number" ? `Shopify answered ${fields.status}` : "Shopify could not be reached";
    throw new OfflineAccessError(shop, "shopify_unavailable", `The app could not renew its access to this shop just now (${reason}).`);
  }

  async function refresh(session: Session): Promise<Session> {
    const { shop, refreshToken } = session;
    if (!refreshToken) throw await needsMerchant(shop, "no_session", { reason: "no_refresh_token" });
    if (session.refreshTokenExpires && session.refreshTokenExpires.getTime() <= Date.now()) {
      throw await needsMerchant(shop, "refresh_token_expired");
    }
    let renewed: Session;
    try {
      renewed = (await api.auth.refreshToken({ shop, refreshToken })).session;
    } catch (error) {
      return failed(session, "refresh_refused", error);
    }
    return stored(renewed, "refreshed");
  }

  async function convert(session: Session): Promise<Session> {
    let converted: Session;
    try {
      // Asked again with the same token (after a lost answer), Shopify returns the same pair.
      converted = (await api.auth.migrateToExpiringToken({ shop: session.shop, nonExpiringOfflineAccessToken: session.accessToken! })).session;
    } catch (error) {
      return failed(session, "migration_refused", error);
    }
    return stored(converted, "converted");
  }

  async function renew(shop: string): Promise<Session> {
    // Read again: another caller or process may have renewed it since the caller looked.
    const session = await load(shop);
    if (session && isFresh(session)) return session;
    if (!session || !(session.accessToken || session.refreshToken)) throw await needsMerchant(shop, "no_session");
    if (session.expires === undefined) {
      if (!session.accessToken) throw await needsMerchant(shop, "no_session");
      return convert(session);
    }
    return refresh(session);
  }

  /** One renewal per shop at a time: later callers wait for the one under way. */
  function renewOnce(shop: string): Promise<Session> {
    let flight = inFlight.get(shop);
    if (!flight) {
      flight = renew(shop).finally(() => inFlight.delete(shop));
      inFlight.set(shop, flight);
    }
    return flight;
  }

  /** The shop's offline session with an expiring token good for at least RENEW_WITHIN_MS. Throws OfflineAccessError. */
  async function sessionFor(shop: string): Promise<Session> {
    const session = await load(shop);
    if (session && isFresh(session)) return session;
    return renewOnce(shop);
  }

  /**
   * The Admin GraphQL API for the shop, answering like `admin.graphql` (a Response, Shopify's
   * errors thrown as the library throws them). The token is renewed as needed before each call,
   * so a long backfill outlives it.
   */
  function graphqlFor(shop: string): AdminGraphql {
    let session: Session | null = null;
    const send = async (current: Session, query: string, variables?: Record<string, unknown>) => {
      const client = new api.clients.Graphql({ session: current });
      // The caller decides about retries (app/backfill/shopify-orders.server.ts).
      const body = await client.request(query, { variables, retries: 0 });
      return new Response(JSON.stringify(body));
    };
    return async (query, options) => {
      if (!session || !isFresh(session)) session = await sessionFor(shop);
      try {
        return await send(session, query, options?.variables);
      } catch (error) {
        if (!(error instanceof HttpResponseError && error.response.code === 401)) throw error;
        // A refresh made by another process retires the token this client held: use the stored one.
        const latest = await sessionFor(shop);
        if (latest.accessToken === session.accessToken) throw error;
        session = latest;
        return send(latest, query, options?.variables);
      }
    };
  }

  /**
   * For the session of a request the merchant just made (`authenticate.admin`): converts a
   * non-expiring token. Returns true when the stored session changed, so the request's clients,
   * which hold the old token, must be made again. If Shopify refuses to convert the token, the
   * token is of no use: it is removed, and authenticating again exchanges the merchant's session
   * token for a new, expiring one. If Shopify cannot be reached, the old token still works and
   * the conversion is tried on the next visit or offline use.
   */
  async function convertOnOpen(session: Session): Promise<boolean> {
    if (session.isOnline || session.expires !== undefined || !session.accessToken) return false;
    try {
      await renewOnce(session.shop);
      return true;
    } catch (error) {
      if (!(error instanceof OfflineAccessError)) throw error;
      if (!error.needsMerchant) return false;
      await sessionStorage.deleteSession(session.id);
      return true;
    }
  }

  return { sessionFor, graphqlFor, convertOnOpen };
}

export type OfflineAccess = ReturnType<typeof createOfflineAccess>;
