import { GraphqlQueryError, HttpResponseError, type Session, type Shopify } from "@shopify/shopify-api";
import { logger, type LogFields } from "../logger.server";
import type { AdminGraphql } from "../storefront/admin-graphql.server";
import {
  clearOfflineAccessProblem,
  isOfflineAccessProblem,
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
 * - sorts failures: Shopify refusing the shop's grant (a 4xx from its token endpoint, a refresh
 *   token past its expiry, no token at all) needs the merchant to open the app, and is recorded
 *   per shop and logged; Shopify refusing the app's own credentials (`invalid_client`: a wrong or
 *   rotated SHOPIFY_API_SECRET) is the operator's to fix, logged as an error and recorded for no
 *   shop; Shopify unreachable or failing (network error, 5xx, 429) is worth trying again. A
 *   non-expiring token that could not be converted for either of the last two reasons is used
 *   as it is meanwhile: it still works.
 */

/** The same margin as Shopify's library: a token this close to expiry is renewed before use. */
export const RENEW_WITHIN_MS = 5 * 60 * 1000;

/** How long a non-expiring token is used as it is after a conversion failed for a reason not the shop's. */
export const CONVERSION_RETRY_MS = 60 * 1000;

/**
 * Why no usable token could be had: a problem only the merchant can fix (OfflineAccessProblem),
 * Shopify unreachable or failing, or Shopify refusing the app's own credentials (the operator's).
 */
export type OfflineAccessFailure = OfflineAccessProblem | "shopify_unavailable" | "app_credentials_rejected";

export class OfflineAccessError extends Error {
  override name = "OfflineAccessError";
  constructor(
    readonly shop: string,
    readonly failure: OfflineAccessFailure,
    message: string,
  ) {
    super(message);
  }

  /**
   * Only the merchant can fix it (by opening the app). Otherwise trying again later can: once
   * Shopify answers, or once the operator corrected the app's credentials.
   */
  get needsMerchant(): boolean {
    return isOfflineAccessProblem(this.failure);
  }
}

/** The session storage calls this module makes (PrismaSessionStorage in the app). */
/**
 * What Shopify says of the app on a shop: still installed (it answered a call made with the
 * shop's offline token), not installed (it refused the token, or refused to renew it), or nothing
 * to ask with (no offline session stored).
 */
export type InstallationStatus = "installed" | "not_installed" | "no_offline_session";

/** The cheapest Admin API call: any answer means the token, hence the install, is live. */
const INSTALLATION_QUERY = "{ currentAppInstallation { id } }";

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

/** OAuth's errors about the client itself (RFC 6749, 5.2): the app's key or secret, not the shop's grant. */
const APP_CREDENTIAL_ERRORS = new Set(["invalid_client", "unauthorized_client"]);

/** Shopify's OAuth error code in a failed answer of its token endpoint, when it is one. */
function shopifyErrorOf(error: HttpResponseError): string | undefined {
  const body = error.response.body as { error?: unknown } | undefined;
  return typeof body?.error === "string" && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
}

/**
 * What a failed call to the token endpoint means:
 * - app_credentials: Shopify refused the app itself (invalid_client or unauthorized_client, or a
 *   401 without a code: OAuth answers 401 only when the client's authentication failed). No shop's
 *   merchant can fix that, and every shop would meet it;
 * - refused: any other 4xx (invalid_grant, invalid_subject_token: the shop's grant or token);
 * - transient: unreachable, failing (5xx), busy (408, 429) or an unreadable answer.
 */
function sortFailure(error: unknown): "app_credentials" | "refused" | "transient" {
  if (!(error instanceof HttpResponseError)) return "transient";
  const status = error.response.code;
  const code = shopifyErrorOf(error);
  if (code ? APP_CREDENTIAL_ERRORS.has(code) : status === 401) return "app_credentials";
  return status >= 400 && status < 500 && status !== 408 && status !== 429 ? "refused" : "transient";
}

/**
 * The system's code of a network failure (ENOTFOUND, ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT...):
 * fetch throws a TypeError whose cause, or the cause's cause, carries it.
 */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a failed call to the token endpoint may be logged with: its status and Shopify's error code. */
function failureFields(error: unknown): LogFields {
  if (error instanceof HttpResponseError) return { status: error.response.code, shopifyError: shopifyErrorOf(error) };
  // Network failures and unreadable answers: the error's class and the system's code say enough;
  // their messages may quote the URL.
  return { error: error instanceof Error ? error.name : typeof error, errorCode: networkCodeOf(error) };
}

const APP_CREDENTIALS_REJECTED =
  "The app could not renew its access to this shop: Shopify did not accept the app's own credentials, which the app's operator must correct.";

export function createOfflineAccess(deps: OfflineAccessDeps) {
  const { api, sessionStorage } = deps;
  const inFlight = new Map<string, Promise<Session>>();
  // Shops whose non-expiring token is used as it is for now (see convert), until when.
  const conversionPausedUntil = new Map<string, number>();

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

  /** Shopify refused the app itself: the operator's to fix, so an error, and recorded for no shop. */
  function logAppCredentialsRejected(shop: string, renewal: "refresh" | "conversion", error: unknown) {
    logger.error("Shopify refused the app's credentials (SHOPIFY_API_KEY, SHOPIFY_API_SECRET): offline access cannot be renewed", {
      shop,
      renewal,
      ...failureFields(error),
    });
  }

  /**
   * After the token endpoint failed: a refusal of the shop's grant is recorded, unless a fresh
   * session was stored meanwhile (another process renewed the token, which is why ours was
   * refused); anything else is reported as not the shop's.
   */
  async function failed(session: Session, problem: OfflineAccessProblem, error: unknown): Promise<Session> {
    const shop = session.shop;
    const kind = sortFailure(error);
    if (kind === "refused") {
      const latest = await load(shop);
      if (latest && isFresh(latest) && latest.accessToken !== session.accessToken) return latest;
      throw await needsMerchant(shop, problem, failureFields(error));
    }
    if (kind === "app_credentials") {
      logAppCredentialsRejected(shop, "refresh", error);
      throw new OfflineAccessError(shop, "app_credentials_rejected", APP_CREDENTIALS_REJECTED);
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
    const shop = session.shop;
    const pausedUntil = conversionPausedUntil.get(shop);
    if (pausedUntil !== undefined && pausedUntil > Date.now()) return session;
    let converted: Session;
    try {
      // Asked again with the same token (after a lost answer), Shopify returns the same pair.
      converted = (await api.auth.migrateToExpiringToken({ shop, nonExpiringOfflineAccessToken: session.accessToken! })).session;
    } catch (error) {
      const kind = sortFailure(error);
      if (kind === "refused") return failed(session, "migration_refused", error);
      // Unlike an expired token, a non-expiring one still works: it is used until the conversion
      // succeeds, asked again after CONVERSION_RETRY_MS rather than before every call.
      if (kind === "app_credentials") logAppCredentialsRejected(shop, "conversion", error);
      else logger.warn("offline access token not converted, the non-expiring one is used meanwhile", { shop, ...failureFields(error) });
      conversionPausedUntil.set(shop, Date.now() + CONVERSION_RETRY_MS);
      return session;
    }
    conversionPausedUntil.delete(shop);
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
   * token for a new, expiring one. If Shopify cannot be reached (or refuses the app's own
   * credentials), the old token still works and the conversion is tried again later.
   */
  async function convertOnOpen(session: Session): Promise<boolean> {
    if (session.isOnline || session.expires !== undefined || !session.accessToken) return false;
    try {
      return (await renewOnce(session.shop)).accessToken !== session.accessToken;
    } catch (error) {
      if (!(error instanceof OfflineAccessError)) throw error;
      if (!error.needsMerchant) return false;
      await sessionStorage.deleteSession(session.id);
      return true;
    }
  }

  /**
   * Asks Shopify whether the app is still installed on the shop, before an effect that cannot be
   * undone (an uninstall, an erasure). Throws OfflineAccessError (not needsMerchant) when Shopify
   * cannot be reached, fails, or refuses the app's own credentials: the answer is then unknown.
   */
  async function installationStatus(shop: string): Promise<InstallationStatus> {
    if (!(await load(shop))) return "no_offline_session";
    try {
      await graphqlFor(shop)(INSTALLATION_QUERY);
      return "installed";
    } catch (error) {
      if (error instanceof OfflineAccessError) {
        // Shopify refused the shop's grant: uninstalling revokes it.
        if (error.needsMerchant) return "not_installed";
        throw error;
      }
      // Errors in an answer to the token (throttled, say) still mean Shopify accepted it.
      if (error instanceof GraphqlQueryError) return "installed";
      if (error instanceof HttpResponseError && (error.response.code === 401 || error.response.code === 403)) return "not_installed";
      const fields = failureFields(error);
      logger.warn("could not ask Shopify whether the app is installed", { shop, ...fields });
      const reason = typeof fields.status === "number" ? `Shopify answered ${fields.status}` : "Shopify could not be reached";
      throw new OfflineAccessError(shop, "shopify_unavailable", `Whether the app is still installed on this shop is unknown (${reason}).`);
    }
  }

  return { sessionFor, graphqlFor, convertOnOpen, installationStatus };
}

export type OfflineAccess = ReturnType<typeof createOfflineAccess>;
