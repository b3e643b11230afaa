import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/orders/intake.server";
import { getShopSettings, refersionKeysOf } from "~/settings/shop-settings.server";
import { orderFixture } from "../support/fixtures";
import { runShopCli, shopCli } from "../support/cli";
import { TEST_ENV } from "../support/test-env";

const SHOP = "cli-store.myshopify.com";
const ORDER = "shopify-docs-order-1001-2026-07.json";
const databaseUrl = () => process.env.DATABASE_URL!;

/** What the shop commands other than backfill need: no Shopify variable at all. */
const databaseAndKeyOnly = () => ({ DATABASE_URL: databaseUrl(), APP_ENCRYPTION_KEY: TEST_ENV.APP_ENCRYPTION_KEY });

async function failure(running: Promise<unknown>) {
  try {
    await running;
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
  throw new Error("expected the command to fail");
}

const fails = (args: string[], extra: Record<string, string> = {}) => failure(shopCli(args, databaseUrl(), extra));

async function savedSecretOf(shop: string) {
  return refersionKeysOf(await getShopSettings(shop))?.secretKey ?? null;
}

// Each command starts a TypeScript process: allow for a loaded machine.
describe("npm run shop", { timeout: 120_000 }, () => {
  it("configures keys, releases waiting orders, lists and retries deliveries", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: orderFixture(ORDER), webhookId: null });

    const configured = await shopCli(["configure", SHOP, "--public-key", "pub_cli"], databaseUrl(), { REFERSION_SECRET_KEY: "sec_cli_secret" });
    expect(configured.stdout).toContain("1 waiting order released");
    expect(configured.stdout).toContain("ending cret");
    expect(configured.stdout + configured.stderr).not.toContain("sec_cli_secret");
    expect(await savedSecretOf(SHOP)).toBe("sec_cli_secret");

    const listed = JSON.parse((await shopCli(["deliveries", SHOP, "--json"], databaseUrl())).stdout);
    expect(listed).toEqual([expect.objectContaining({ orderId: "450789469", status: "pending" })]);
    expect((await shopCli(["deliveries", SHOP], databaseUrl())).stdout).toMatch(/#1001\s+450789469\s+598.94 USD\s+pending/);

    await prisma.delivery.updateMany({ where: { shop: SHOP }, data: { status: "failed" } });
    expect((await shopCli(["retry", SHOP, "450789469"], databaseUrl())).stdout).toContain("queued");
    const again = await fails(["retry", SHOP, "450789469"]);
    expect(again.stderr).toContain("already queued");
  });

  it("reads the secret key from standard input: one line, its newline not part of the key, never printed", async () => {
    const shop = "stdin-store.myshopify.com";
    const secret = "sec_from_stdin_0123";
    const configured = await runShopCli(
      ["configure", shop, "--public-key", "pub_stdin", "--secret-key-stdin"],
      { ...TEST_ENV, DATABASE_URL: databaseUrl() },
      `${secret}\n`,
    );
    expect(configured.stdout).toContain("secret key ending 0123");
    expect(configured.stdout + configured.stderr).not.toContain(secret);
    expect(await savedSecretOf(shop)).toBe(secret);

    const empty = await failure(runShopCli(["configure", shop, "--secret-key-stdin"], { ...TEST_ENV, DATABASE_URL: databaseUrl() }, ""));
    expect(empty.code).toBe(1);
    expect(empty.stderr.trim()).toBe("Standard input held no secret key (--secret-key-stdin reads it from there)");
    const twoWays = await failure(
      runShopCli(["configure", shop, "--secret-key-stdin"], { ...TEST_ENV, DATABASE_URL: databaseUrl(), REFERSION_SECRET_KEY: "sec_other_0000" }, "sec_another_1111\n"),
    );
    expect(twoWays.stderr.trim()).toBe("Give the secret key one way: REFERSION_SECRET_KEY or --secret-key-stdin, not both");
    expect(await savedSecretOf(shop)).toBe(secret);
  });

  it("refuses a secret key on the command line, without repeating it, and saves nothing", async () => {
    const shop = "argv-store.myshopify.com";
    for (const args of [
      ["configure", shop, "--public-key", "pub_argv", "--secret-key", "sec_on_the_command_line"],
      ["configure", shop, "--public-key", "pub_argv", "--secret-key=sec_on_the_command_line"],
    ]) {
      const refused = await fails(args);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain("--secret-key is not accepted");
      expect(refused.stderr).toContain("REFERSION_SECRET_KEY");
      expect(refused.stderr).toContain("--secret-key-stdin");
      expect(refused.stderr).not.toContain("sec_on_the_command_line");
    }
    // A key given as a stray argument is not echoed either.
    const stray = await fails(["configure", shop, "sec_on_the_command_line", "--public-key", "pub_argv"]);
    expect(stray.stderr).not.toContain("sec_on_the_command_line");
    expect(await prisma.shopSettings.findUnique({ where: { shop } })).toBeNull();
  });

  it("runs configure, deliveries and retry with DATABASE_URL and APP_ENCRYPTION_KEY only", async () => {
    const shop = "bare-env-store.myshopify.com";
    const configured = await runShopCli(["configure", shop, "--public-key", "pub_bare"], { ...databaseAndKeyOnly(), REFERSION_SECRET_KEY: "sec_bare_env_4567" });
    expect(configured.stdout).toContain(`${shop}: public key pub_bare, secret key ending 4567, forwarding on`);
    expect(configured.stdout + configured.stderr).not.toContain("sec_bare_env_4567");

    await acceptOrderWebhook({ shop, payload: orderFixture(ORDER), webhookId: null });
    await prisma.delivery.updateMany({ where: { shop }, data: { status: "failed" } });
    expect((await runShopCli(["retry", shop, "450789469"], databaseAndKeyOnly())).stdout).toContain("order 450789469 queued for delivery");
    const listed = JSON.parse((await runShopCli(["deliveries", shop, "--json"], databaseAndKeyOnly())).stdout);
    expect(listed).toEqual([expect.objectContaining({ orderId: "450789469", status: "pending" })]);

    // A skipped order is judged (mapped) again: that takes the app's secret, and nothing changes without it.
    await prisma.delivery.updateMany({ where: { shop }, data: { status: "skipped", reasonCode: "test_order" } });
    const unmapped = await failure(runShopCli(["retry", shop, "450789469"], databaseAndKeyOnly()));
    expect(unmapped.stderr).toContain("Retrying order 450789469 maps it again");
    expect(unmapped.stderr).toContain("SHOPIFY_API_SECRET: is required");
    expect(await prisma.delivery.findFirst({ where: { shop }, select: { status: true } })).toEqual({ status: "skipped" });
  });

  it("asks for SHOPIFY_API_SECRET alone, before saving, when configure must map orders that waited for keys", async () => {
    // Released orders are mapped, and an order without a cart token gets a cart id derived with the app's secret.
    const shop = "waiting-store.myshopify.com";
    await acceptOrderWebhook({ shop, payload: orderFixture(ORDER), webhookId: null });
    const refused = await failure(runShopCli(["configure", shop, "--public-key", "pub_wait"], { ...databaseAndKeyOnly(), REFERSION_SECRET_KEY: "sec_waiting_8901" }));
    expect(refused.stderr).toContain("1 order waiting for waiting-store.myshopify.com's keys is mapped when keys are saved");
    expect(refused.stderr).toContain("nothing was saved");
    expect(refused.stderr).toContain("SHOPIFY_API_SECRET: is required");
    expect(refused.stderr).not.toMatch(/SHOPIFY_API_KEY|SHOPIFY_APP_URL|sec_waiting_8901/);
    expect(await prisma.shopSettings.findUnique({ where: { shop } })).toBeNull();

    const configured = await runShopCli(["configure", shop, "--public-key", "pub_wait"], {
      ...databaseAndKeyOnly(),
      SHOPIFY_API_SECRET: TEST_ENV.SHOPIFY_API_SECRET,
      REFERSION_SECRET_KEY: "sec_waiting_8901",
    });
    expect(configured.stdout).toContain("1 waiting order released");
  });

  it("configure without a new secret key says so when the saved one cannot be decrypted with the configured keys, and saves nothing", async () => {
    const shop = "rekeyed-store.myshopify.com";
    await runShopCli(["configure", shop, "--public-key", "pub_rekeyed"], { ...databaseAndKeyOnly(), REFERSION_SECRET_KEY: "sec_rekeyed_5678" });
    const saved = await prisma.shopSettings.findUniqueOrThrow({ where: { shop } });

    const otherKey = "a".repeat(64);
    const refused = await failure(runShopCli(["configure", shop, "--public-key", "pub_changed"], { ...databaseAndKeyOnly(), APP_ENCRYPTION_KEY: otherKey }));
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toContain("secret key ending");
    expect(refused.stderr).toContain(`${shop}'s saved secret key (ending 5678) cannot be decrypted`);
    expect(refused.stderr).toContain("APP_ENCRYPTION_KEY_PREVIOUS");
    expect(refused.stderr).toContain("Nothing was saved.");
    expect(refused.stdout + refused.stderr).not.toContain("sec_rekeyed_5678");
    expect(await prisma.shopSettings.findUniqueOrThrow({ where: { shop } })).toEqual(saved);

    // With the key it was saved with, the same command goes through.
    const kept = await runShopCli(["configure", shop, "--public-key", "pub_changed"], databaseAndKeyOnly());
    expect(kept.stdout).toContain(`${shop}: public key pub_changed, secret key ending 5678, forwarding on`);
  });

  it("backfill without the app's Shopify credentials names the missing variables", async () => {
    const refused = await failure(runShopCli(["backfill", SHOP, "--since", "2026-01-01"], databaseAndKeyOnly()));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("backfill reads the shop's orders through Shopify's Admin API");
    for (const name of ["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SHOPIFY_APP_URL"]) expect(refused.stderr).toContain(`${name}: is required`);
    const partly = await failure(runShopCli(["backfill", SHOP, "--since", "2026-01-01"], { ...databaseAndKeyOnly(), SHOPIFY_API_KEY: "k", SHOPIFY_API_SECRET: "s" }));
    expect(partly.stderr).toMatch(/SHOPIFY_APP_URL: is required/);
    expect(partly.stderr).not.toMatch(/SHOPIFY_API_(KEY|SECRET):/);
  });

  it("explains bad input in one line and exits 1", async () => {
    const badShop = await fails(["deliveries", "not a shop"]);
    expect(badShop.code).toBe(1);
    expect(badShop.stderr.trim()).toBe('"not a shop" is not a myshopify.com domain');
    const badKey = await fails(["configure", SHOP, "--public-key", "has space"], { REFERSION_SECRET_KEY: "sec_cli_secret" });
    expect(badKey.stderr).toContain("publicKey: A Refersion key has only letters, digits, _ and -");
    const noSecret = await fails(["configure", "new-store.myshopify.com", "--public-key", "pub_ok"]);
    expect(noSecret.stderr.trim()).toBe(
      "new-store.myshopify.com has no Refersion secret key saved yet: give it in REFERSION_SECRET_KEY or on standard input with --secret-key-stdin",
    );
  });
});
