/**
 * Operator commands for one shop, against DATABASE_URL:
 *   npm run -s shop -- configure SHOP --public-key K --secret-key S [--disable]
 *   npm run -s shop -- deliveries SHOP [--json]
 *   npm run -s shop -- retry SHOP ORDER_ID
 *   npm run -s shop -- backfill SHOP --since YYYY-MM-DD [--until YYYY-MM-DD]
 *   npm run -s shop -- customer-data SHOP CUSTOMER_ID [--orders ID,ID]
 *   npm run -s shop -- rotate-encryption-key
 * Reads .env when present (like the app under `shopify app dev`).
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { renderTable } from "./cli/delivery-table";

const USAGE = `Usage:
  npm run -s shop -- configure SHOP --public-key KEY --secret-key KEY [--disable] [--forward-test-orders]
  npm run -s shop -- deliveries SHOP [--json]
  npm run -s shop -- retry SHOP ORDER_ID
  npm run -s shop -- backfill SHOP --since YYYY-MM-DD [--until YYYY-MM-DD]
  npm run -s shop -- customer-data SHOP CUSTOMER_ID [--orders ID,ID]
  npm run -s shop -- rotate-encryption-key`;

class UsageError extends Error {}

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

function requireShop(value: string | undefined): string {
  if (!value) throw new UsageError("Name the shop, e.g. my-store.myshopify.com");
  if (!SHOP_DOMAIN.test(value)) throw new UsageError(`"${value}" is not a myshopify.com domain`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  if (fs.existsSync(".env")) process.loadEnvFile(".env");
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "public-key": { type: "string" },
      "secret-key": { type: "string" },
      disable: { type: "boolean", default: false },
      "forward-test-orders": { type: "boolean" },
      json: { type: "boolean", default: false },
      since: { type: "string" },
      until: { type: "string" },
      orders: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }

  // Imported after .env is loaded: the app's modules read the environment once, when first used.
  const prisma = (await import("../app/db.server")).default;
  try {
    switch (command) {
      case "configure": {
        const shop = requireShop(rest[0]);
        const { SettingsFormSchema, fieldErrorsOf } = await import("../app/settings/settings-form");
        const { getShopSettings, saveShopSettings, toSettingsView } = await import("../app/settings/shop-settings.server");
        const { releaseOrdersWaitingForKeys } = await import("../app/forwarding/order-intake.server");
        const current = toSettingsView(await getShopSettings(shop));
        const parsed = SettingsFormSchema.safeParse({
          ...current,
          publicKey: values["public-key"] ?? current.publicKey,
          secretKey: values["secret-key"] ?? "",
          forwardingEnabled: !values.disable,
          forwardTestOrders: values["forward-test-orders"] ?? current.forwardTestOrders,
        });
        if (!parsed.success) {
          const errors = Object.entries(fieldErrorsOf(parsed.error)).map(([field, message]) => `${field}: ${message}`);
          throw new UsageError(errors.join("; "));
        }
        await saveShopSettings(shop, parsed.data);
        const released = await releaseOrdersWaitingForKeys(shop);
        const view = toSettingsView(await getShopSettings(shop));
        console.log(
          `${shop}: public key ${view.publicKey}, secret key ending ${view.secretKeyLast4}, forwarding ${view.forwardingEnabled ? "on" : "off"}` +
            (released ? `; ${released} waiting order(s) released` : ""),
        );
        return 0;
      }
      case "deliveries": {
        const shop = requireShop(rest[0]);
        const rows = await prisma.delivery.findMany({
          where: { shop },
          orderBy: { createdAt: "asc" },
          select: {
            orderId: true, orderName: true, kind: true, totalAmount: true, currency: true, status: true,
            attempts: true, lastStatusCode: true, reason: true, updatedAt: true,
          },
        });
        if (values.json) {
          console.log(JSON.stringify(rows, null, 2));
        } else {
          console.log(
            renderTable(
              ["order", "id", "total", "status", "attempts", "last code", "updated", "reason"],
              rows.map((row) => [
                row.orderName ?? "", row.orderId, row.totalAmount ? `${row.totalAmount} ${row.currency}` : "", row.status,
                row.attempts, row.lastStatusCode, row.updatedAt.toISOString(), row.reason,
              ]),
            ),
          );
        }
        return 0;
      }
      case "retry": {
        const shop = requireShop(rest[0]);
        const orderId = rest[1];
        if (!orderId || !/^\d+$/.test(orderId)) throw new UsageError("Name the Shopify order id (digits), e.g. 450789469");
        const { retryDelivery } = await import("../app/forwarding/manual-retry.server");
        const result = await retryDelivery(shop, { orderId });
        if (!result.ok) {
          const why = {
            not_found: `no delivery of order ${orderId} for ${shop}`,
            already_queued: `order ${orderId} is already queued`,
            not_mapped: `order ${orderId} could not be mapped, so there is nothing to send`,
            waiting_for_keys: `order ${orderId} waits for the shop's Refersion keys`,
            waiting_for_payment: `order ${orderId} is sent when Shopify reports it paid`,
            cancelled: `order ${orderId} was cancelled in Shopify; it is not sent again`,
            reversed: `order ${orderId}'s commission was reversed; sending it again would credit it again`,
            still_skipped: `order ${orderId} is still skipped: ${result.detail ?? "its reason still holds"}`,
            not_retryable: `only a failed cancellation or refund can be retried`,
          }[result.reason];
          console.error(why);
          return 1;
        }
        console.log(`order ${orderId} queued for delivery`);
        return 0;
      }
      case "customer-data": {
        // What the app holds for a customer (a customers/data_request), as JSON for the merchant.
        const shop = requireShop(rest[0]);
        const customerId = rest[1];
        if (!customerId || !/^\d+$/.test(customerId)) throw new UsageError("Name the Shopify customer id (digits), e.g. 207119551");
        const orderIds = (values.orders ?? "").split(",").map((id) => id.trim()).filter(Boolean);
        if (orderIds.some((id) => !/^\d+$/.test(id))) throw new UsageError("--orders takes Shopify order ids (digits), comma-separated");
        const { customerDataHeld } = await import("../app/privacy/compliance.server");
        console.log(JSON.stringify(await customerDataHeld(shop, { customerId, orderIds }), null, 2));
        return 0;
      }
      case "rotate-encryption-key": {
        // Set the new key as APP_ENCRYPTION_KEY and the old one as APP_ENCRYPTION_KEY_PREVIOUS first.
        const { rotateEncryptionKey } = await import("../app/settings/key-rotation.server");
        const report = await rotateEncryptionKey();
        console.log(
          `${report.examined} secret(s) examined: ${report.reEncrypted} re-encrypted with key ${report.keyId}, ` +
            `${report.alreadyCurrent} already under it, ${report.failed.length} could not be opened`,
        );
        for (const failure of report.failed) console.error(`${failure.shop}: ${failure.reason}`);
        return report.failed.length === 0 ? 0 : 1;
      }
      case "backfill": {
        // Resend past orders, with a progress bar (scripts/cli/backfill-command.ts).
        const { runBackfillCommand } = await import("./cli/backfill-command");
        return runBackfillCommand(requireShop(rest[0]), { since: values.since, until: values.until });
      }
      default:
        throw new UsageError(`Unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // Errors meant for the operator are printed as they are; anything else is unexpected.
    const expected = error instanceof UsageError || ["EnvError", "MissingSecretKeyError", "SecretBoxError"].includes(error?.name);
    console.error(expected ? error.message : `Error: ${error?.message ?? error}`);
    process.exit(1);
  },
);
