import prisma from "~/db.server";
import { acceptOrderWebhook } from "~/forwarding/order-intake.server";
import { orderFixture } from "../support/fixtures";
import { shopCli } from "../support/cli";

const SHOP = "cli-store.myshopify.com";
const databaseUrl = () => process.env.DATABASE_URL!;

async function fails(args: string[]) {
  try {
    await shopCli(args, databaseUrl());
  } catch (error) {
    return error as { code: number; stderr: string };
  }
  throw new Error(`expected "${args.join(" ")}" to fail`);
}

// Each command starts a TypeScript process: allow for a loaded machine.
describe("npm run shop", { timeout: 120_000 }, () => {
  it("configures keys, releases waiting orders, lists and retries deliveries", async () => {
    await acceptOrderWebhook({ shop: SHOP, payload: orderFixture("shopify-docs-order-1001-2026-07.json"), webhookId: null });

    const configured = await shopCli(["configure", SHOP, "--public-key", "pub_cli", "--secret-key", "sec_cli_secret"], databaseUrl());
    expect(configured.stdout).toContain("1 waiting order(s) released");
    expect(configured.stdout).toContain("ending cret");
    expect(configured.stdout).not.toContain("sec_cli_secret");

    const listed = JSON.parse((await shopCli(["deliveries", SHOP, "--json"], databaseUrl())).stdout);
    expect(listed).toEqual([expect.objectContaining({ orderId: "450789469", status: "pending" })]);
    expect((await shopCli(["deliveries", SHOP], databaseUrl())).stdout).toMatch(/#1001\s+450789469\s+598.94 USD\s+pending/);

    await prisma.delivery.updateMany({ where: { shop: SHOP }, data: { status: "failed" } });
    expect((await shopCli(["retry", SHOP, "450789469"], databaseUrl())).stdout).toContain("queued");
    const again = await fails(["retry", SHOP, "450789469"]);
    expect(again.stderr).toContain("already queued");
  });

  it("explains bad input in one line and exits 1", async () => {
    const badShop = await fails(["deliveries", "not a shop"]);
    expect(badShop.code).toBe(1);
    expect(badShop.stderr.trim()).toBe('"not a shop" is not a myshopify.com domain');
    const badKey = await fails(["configure", SHOP, "--public-key", "has space", "--secret-key", "x"]);
    expect(badKey.stderr).toContain("publicKey: A Refersion key has only letters, digits, _ and -");
    const noSecret = await fails(["configure", "new-store.myshopify.com", "--public-key", "pub_ok"]);
    expect(noSecret.stderr.trim()).toBe("Enter your Refersion secret key");
  });
});
