import crypto from "node:crypto";

/**
 * Shopify's token endpoint, POST https://<shop>/admin/oauth/access_token, as the Admin API
 * stand-in serves it (scripts/shopify-admin-standin.ts), with what Shopify holds for each shop:
 * the access token the Admin API accepts now (and until when) and the refresh token. The
 * stand-in checks every Admin API call against it. The app's credentials (SHOPIFY_API_KEY,
 * SHOPIFY_API_SECRET, SCOPES) are those of the environment the app runs with.
 *
 * Grants, as Shopify documents them and Shopify's library sends them (JSON body, client_id and
 * client_secret checked first, 401 invalid_client otherwise):
 * - refresh_token: a new expiring pair for the current refresh token, or for the previous one
 *   while the current one was never used (Shopify keeps it valid until then, so an answer lost
 *   on the way can be asked for again). The access token it replaces is refused from then on.
 *   A refresh token that is unknown, expired or revoked: 400 invalid_grant.
 * - token exchange of a session token (subject_token_type id_token, what the admin's requests
 *   carry): the JWT is checked (HS256 with the app's secret, audience, destination, expiry), and
 *   a new token issued, an expiring pair when asked with expiring=1. Tokens issued before stay
 *   valid until they expire (a page's loaders may exchange at the same time, as in Shopify's
 *   app template).
 * - token exchange of a non-expiring offline token (the conversion to an expiring one): the
 *   shop's current non-expiring token gives a new expiring pair, and asked again with the same
 *   token it gives the same pair; any other token: 400 invalid_subject_token.
 * `failNext` answers the next requests with an error status instead (Shopify down: 503), or
 * closes the connection without an answer (the network failing on the way).
 */

export const TOKEN_PATH = "/admin/oauth/access_token";
const ACCESS_TOKEN_SECONDS = 3600;
const REFRESH_TOKEN_SECONDS = 90 * 86_400;
const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token";

/** What Shopify holds for a shop. Times in milliseconds since the epoch; null: does not expire / none. */
export interface ShopCredentials {
  accessToken: string;
  accessTokenExpiresAt: number | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: number | null;
}

export type TokenGrant = "refresh_token" | "session_token_exchange" | "conversion" | "unknown";

export interface TokenRequest {
  shop: string | null;
  grant: TokenGrant;
  /** The refresh token or converted token presented (never the session token). */
  presented: string | null;
  status: number;
  error: string | null;
}

interface TokenAnswer {
  access_token: string;
  scope: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
}

interface ShopState extends ShopCredentials {
  /** Access tokens from earlier exchanges, valid until they expire. */
  earlierTokens: { token: string; expiresAt: number | null }[];
  /** Still valid while the current refresh token was never used. */
  previousRefreshToken: string | null;
  revoked: boolean;
  /** Non-expiring tokens already converted, and the pair each gave. */
  conversions: Map<string, TokenAnswer>;
  failures: TokenFailure[];
}

/** An error status, or "disconnect": the connection is closed before any answer. */
export type TokenFailure = number | "disconnect";

/** What the stand-in's server sends: an answer, or nothing (`disconnect`: it closes the connection). */
export interface TokenEndpointAnswer {
  status: number;
  payload: unknown;
  disconnect?: boolean;
}

export interface ShopifyTokenEndpoint {
  requests: TokenRequest[];
  /** Sets what Shopify holds for the shop (a non-expiring token unless told otherwise). */
  set(shop: string, credentials: Partial<ShopCredentials> & { accessToken: string }): void;
  /** What Shopify holds for the shop now. */
  current(shop: string): ShopCredentials | null;
  /** Whether the Admin API accepts `token` for the shop now. */
  admits(shop: string, token: unknown): boolean;
  /** The merchant's grant is gone: its tokens are refused, and so are refreshes and conversions (400 invalid_grant). */
  revoke(shop: string): void;
  /** The next `times` requests for the shop are answered `failure` (e.g. 503) instead, or get no answer ("disconnect"). */
  failNext(shop: string, failure: TokenFailure, times?: number): void;
  /** Holds every answer this long, so that callers overlap. */
  setDelay(ms: number): void;
  /** Serves one request to TOKEN_PATH. */
  handle(shop: string | null, method: string, body: string): Promise<TokenEndpointAnswer>;
}

/** The part of the app's environment Shopify knows: its credentials and the scopes it was granted. */
export interface AppCredentials {
  SHOPIFY_API_KEY: string;
  SHOPIFY_API_SECRET: string;
  SCOPES: string;
}

function verifySessionToken(app: AppCredentials, token: string, shop: string): boolean {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return false;
  const expected = crypto.createHmac("sha256", app.SHOPIFY_API_SECRET).update(`${header}.${payload}`).digest("base64url");
  if (expected.length !== signature.length || !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { aud?: unknown; dest?: unknown; exp?: unknown };
    return claims.aud === app.SHOPIFY_API_KEY && claims.dest === `https://${shop}` && typeof claims.exp === "number" && claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return Object.fromEntries(new URLSearchParams(body));
  }
}

export function createShopifyTokenEndpoint(app: AppCredentials): ShopifyTokenEndpoint {
  const shops = new Map<string, ShopState>();
  const requests: TokenRequest[] = [];
  let delayMs = 0;
  let issued = 0;

  const stateOf = (shop: string): ShopState => {
    let state = shops.get(shop);
    if (!state) {
      state = {
        accessToken: "",
        accessTokenExpiresAt: null,
        refreshToken: null,
        refreshTokenExpiresAt: null,
        earlierTokens: [],
        previousRefreshToken: null,
        revoked: false,
        conversions: new Map(),
        failures: [],
      };
      shops.set(shop, state);
    }
    return state;
  };

  /** A new token (pair) for the shop; the access token it replaces is refused from now on. */
  function issue(state: ShopState, shop: string, expiring: boolean): TokenAnswer {
    issued += 1;
    const name = shop.split(".")[0];
    state.accessToken = `shpat_${name}_issued_${issued}_${crypto.randomBytes(6).toString("hex")}`;
    if (!expiring) {
      Object.assign(state, { accessTokenExpiresAt: null, refreshToken: null, refreshTokenExpiresAt: null, previousRefreshToken: null });
      return { access_token: state.accessToken, scope: app.SCOPES };
    }
    state.accessTokenExpiresAt = Date.now() + ACCESS_TOKEN_SECONDS * 1000;
    state.refreshToken = `shprt_${crypto.randomBytes(12).toString("hex")}`;
    state.refreshTokenExpiresAt = Date.now() + REFRESH_TOKEN_SECONDS * 1000;
    return {
      access_token: state.accessToken,
      scope: app.SCOPES,
      expires_in: ACCESS_TOKEN_SECONDS,
      refresh_token: state.refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
    };
  }

  async function handle(shop: string | null, method: string, body: string): Promise<TokenEndpointAnswer> {
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const params = parseBody(body);
    const entry: TokenRequest = { shop, grant: "unknown", presented: null, status: 0, error: null };
    requests.push(entry);
    const answer = (status: number, payload: unknown) => {
      entry.status = status;
      entry.error = status >= 400 ? String((payload as { error?: unknown }).error ?? "error") : null;
      return { status, payload };
    };
    if (params.grant_type === "refresh_token") {
      entry.grant = "refresh_token";
      entry.presented = typeof params.refresh_token === "string" ? params.refresh_token : null;
    } else if (params.grant_type === TOKEN_EXCHANGE_GRANT && params.subject_token_type === ID_TOKEN_TYPE) {
      entry.grant = "session_token_exchange";
    } else if (params.grant_type === TOKEN_EXCHANGE_GRANT && params.subject_token_type === OFFLINE_TOKEN_TYPE) {
      entry.grant = "conversion";
      entry.presented = typeof params.subject_token === "string" ? params.subject_token : null;
    }

    if (method !== "POST" || !shop) return answer(404, { error: "not_found" });
    if (params.client_id !== app.SHOPIFY_API_KEY || params.client_secret !== app.SHOPIFY_API_SECRET) {
      return answer(401, { error: "invalid_client", error_description: "Client authentication failed" });
    }
    const state = stateOf(shop);
    const failure = state.failures.shift();
    if (failure === "disconnect") {
      entry.error = "disconnected";
      return { status: 0, payload: null, disconnect: true };
    }
    if (failure !== undefined) return answer(failure, { error: "temporarily_unavailable", errors: "Service unavailable" });

    switch (entry.grant) {
      case "refresh_token": {
        const presented = entry.presented;
        const known = presented !== null && (presented === state.refreshToken || presented === state.previousRefreshToken);
        const expired = state.refreshTokenExpiresAt !== null && state.refreshTokenExpiresAt <= Date.now();
        if (state.revoked || !known || expired) {
          return answer(400, { error: "invalid_grant", error_description: "The refresh token is invalid, expired or revoked" });
        }
        const pair = issue(state, shop, true);
        state.previousRefreshToken = presented;
        return answer(200, pair);
      }
      case "session_token_exchange": {
        if (typeof params.subject_token !== "string" || !verifySessionToken(app, params.subject_token, shop)) {
          return answer(400, { error: "invalid_subject_token", error_description: "The session token is invalid" });
        }
        // The merchant opened the app: a new grant.
        if (!state.revoked && state.accessToken) state.earlierTokens.push({ token: state.accessToken, expiresAt: state.accessTokenExpiresAt });
        state.revoked = false;
        state.previousRefreshToken = null;
        return answer(200, issue(state, shop, params.expiring === "1"));
      }
      case "conversion": {
        const presented = entry.presented;
        const earlier = presented ? state.conversions.get(presented) : undefined;
        if (state.revoked) return answer(400, { error: "invalid_grant", error_description: "The access was revoked" });
        if (earlier) return answer(200, earlier);
        if (params.expiring !== "1" || !presented || presented !== state.accessToken || state.accessTokenExpiresAt !== null) {
          return answer(400, { error: "invalid_subject_token", error_description: "The offline access token is invalid" });
        }
        const pair = issue(state, shop, true);
        state.previousRefreshToken = null;
        state.conversions.set(presented, pair);
        return answer(200, pair);
      }
      default:
        return answer(400, { error: "unsupported_grant_type" });
    }
  }

  return {
    requests,
    set(shop, credentials) {
      const state = stateOf(shop);
      Object.assign(state, {
        accessTokenExpiresAt: null,
        refreshToken: null,
        refreshTokenExpiresAt: null,
        ...credentials,
        earlierTokens: [],
        previousRefreshToken: null,
        revoked: false,
      });
      state.conversions.clear();
      state.failures.length = 0;
    },
    current(shop) {
      const state = shops.get(shop);
      if (!state) return null;
      const { accessToken, accessTokenExpiresAt, refreshToken, refreshTokenExpiresAt } = state;
      return { accessToken, accessTokenExpiresAt, refreshToken, refreshTokenExpiresAt };
    },
    admits(shop, token) {
      const state = shops.get(shop);
      if (!state || state.revoked || typeof token !== "string" || !token) return false;
      const valid = (expiresAt: number | null) => expiresAt === null || expiresAt > Date.now();
      if (token === state.accessToken) return valid(state.accessTokenExpiresAt);
      return state.earlierTokens.some((earlier) => earlier.token === token && valid(earlier.expiresAt));
    },
    revoke(shop) {
      const state = stateOf(shop);
      state.revoked = true;
      state.earlierTokens = [];
    },
    failNext(shop, failure, times = 1) {
      stateOf(shop).failures.push(...Array.from({ length: times }, () => failure));
    },
    setDelay(ms) {
      delayMs = ms;
    },
    handle,
  };
}
