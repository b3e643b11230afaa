/**
 * "Test connection" after APP_ENCRYPTION_KEY changed without its previous value: the saved secret
 * key cannot be decrypted. The merchant is told to enter it again, on the card that answered and
 * on the pages that show the saved outcome; nothing is asked of Refersion and nothing throws.
 */
import crypto from "node:crypto";
import prisma from "~/db.server";
import { loadHomePage } from "~/admin/home-page.server";
import { loadSettingsPage, testConnectionFromAdmin } from "~/admin/settings-page.server";
import { checkRefersionConnection } from "~/settings/connection-check.server";
import { sealSecret } from "~/settings/secret-box.server";

const SHOP = "unreadable-secret.myshopify.com";
const LOST_KEY = crypto.randomBytes(32).toString("hex");

beforeEach(async () => {
  await prisma.shopSettings.deleteMany({ where: { shop: SHOP } });
  const sealed = sealSecret("sec_sealed_under_a_lost_key", LOST_KEY);
  await prisma.shopSettings.create({
    data: { shop: SHOP, publicKey: "pub_lost", secretKeyCiphertext: sealed.ciphertext, secretKeyKeyId: sealed.keyId, secretKeyLast4: "_key", connectionStatus: "valid", connectionCheckedAt: new Date() },
  });
});

describe("test connection with a secret key that cannot be decrypted", () => {
  it("answers what to do, without calling Refersion", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    expect(await checkRefersionConnection(SHOP, { fetch })).toMatchObject({ status: "secret_unreadable" });
    expect(fetch).not.toHaveBeenCalled();

    const view = await testConnectionFromAdmin(SHOP);
    expect(view).toMatchObject({ state: "secret_unreadable", tone: "critical" });
    expect(view.message).toMatch(/Enter your Refersion secret key again in Settings and save it/);
  });

  it("shows the same on Settings and Home after the check, instead of the earlier valid outcome", async () => {
    await testConnectionFromAdmin(SHOP);
    expect((await loadSettingsPage(SHOP)).connection.state).toBe("secret_unreadable");
    // The theme cannot be read here (no Shopify): the page says "could not check" for it.
    const graphql = (() => Promise.reject(new Error("Shopify is not reachable in this test"))) as unknown as Parameters<typeof loadHomePage>[0]["graphql"];
    const home = await loadHomePage({ shop: SHOP, graphql, apiKey: "test-api-key" });
    expect(home.connection.state).toBe("secret_unreadable");
  });
});
