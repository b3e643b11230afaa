import { Session } from "@shopify/shopify-api";
import type { SessionStorage } from "@shopify/shopify-app-session-storage";
import { configuredKeys, openValue, sealValue, isSealed, type SealingKeys } from "../database/sealed-values.server";

/**
 * Shopify's session storage with the shop's access and refresh tokens sealed at rest
 * (AES-256-GCM, APP_ENCRYPTION_KEY, as the Refersion secret): whoever reads the Session table, a
 * backup or the SQLite file gets no token that opens the shop's Admin API. Tokens are sealed on
 * store and opened on load; a session stored before (plain tokens) loads as it is and is sealed
 * the next time it is stored (every renewal stores it). `npm run -s shop -- rotate-encryption-key`
 * seals them again under a new key (app/settings/key-rotation.server.ts).
 */
export class SealedSessionStorage<Inner extends SessionStorage> implements SessionStorage {
  constructor(
    readonly inner: Inner,
    private readonly keys: () => SealingKeys = configuredKeys,
  ) {}

  storeSession(session: Session): Promise<boolean> {
    const { current } = this.keys();
    const seal = (token: string | undefined) => (token && !isSealed(token) ? sealValue(token, current) : token);
    return this.inner.storeSession(withTokens(session, seal));
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const session = await this.inner.loadSession(id);
    return session ? this.opened(session) : undefined;
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    return (await this.inner.findSessionsByShop(shop)).map((session) => this.opened(session));
  }

  deleteSession(id: string): Promise<boolean> {
    return this.inner.deleteSession(id);
  }

  deleteSessions(ids: string[]): Promise<boolean> {
    return this.inner.deleteSessions(ids);
  }

  /** Shopify's app calls it when the storage has one (PrismaSessionStorage waits for its table). */
  isReady(): Promise<boolean> {
    const inner = this.inner as SessionStorage & { isReady?: () => Promise<boolean> };
    return inner.isReady ? inner.isReady() : Promise.resolve(true);
  }

  private opened(session: Session): Session {
    const { all } = this.keys();
    return withTokens(session, (token) => (token ? openValue(token, all) : token));
  }
}

/** A copy of the session with its tokens transformed; the caller's session is left as it was. */
function withTokens(session: Session, transform: (token: string | undefined) => string | undefined): Session {
  return new Session({
    id: session.id,
    shop: session.shop,
    state: session.state,
    isOnline: session.isOnline,
    scope: session.scope,
    expires: session.expires,
    accessToken: transform(session.accessToken),
    refreshToken: transform(session.refreshToken),
    refreshTokenExpires: session.refreshTokenExpires,
    onlineAccessInfo: session.onlineAccessInfo,
  });
}
