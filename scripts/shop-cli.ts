/**
 * Operator commands for one shop, against DATABASE_URL:
 *   npm run -s shop -- configure SHOP --public-key K --secret-key-stdin [--disable]
 *   REFERSION_SECRET_KEY=S npm run -s shop -- configure SHOP --public-key K [--disable]
 *   npm run -s shop -- deliveries SHOP [--json]
 *   npm run -s shop -- retry SHOP ORDER_ID
 *   npm run -s shop -- backfill SHOP --since YYYY-MM-DD [--until YYYY-MM-DD]
 *   npm run -s shop -- customer-data SHOP CUSTOMER_ID [--orders ID,ID]
 *   npm run -s shop -- rotate-encryption-key
 * Reads .env when present (like the app under `shopify app dev`). Each command needs only the
 * variables it uses: DATABASE_URL and APP_ENCRYPTION_KEY, and for backfill, which checks the
 * shop's access as the app and on PostgreSQL runs the app's own runner, the app's whole
 * environment (README, "Environment").
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { countOf, pluralForm } from "../app/admin/plural";
import { EnvError, appSecretEnv } from "../app/env.server";
import { renderTable } from "./cli/delivery-table";
import { readSecretKeyFromStdin } from "./cli/secret-key-input";

const USAGE = `Usage:
  npm run -s shop -- configure SHOP --public-key KEY --secret-key-stdin [--disable] [--forward-test-orders]
  REFERSION_SECRET_KEY=KEY npm run -s shop -- configure SHOP --public-key KEY [--disable] [--forward-test-orders]
  npm run -s shop -- deliveries SHOP [--json]
  npm run -s shop -- retry SHOP ORDER_ID
  npm run -s shop -- backfill SHOP --since YYYY-MM-DD [--until YYYY-MM-DD]
  npm run -s shop -- customer-data SHOP CUSTOMER_ID [--orders ID,ID]
  npm run -s shop -- rotate-encryption-key
configure reads the secret key from standard input (a prompt that does not show it, on a terminal)
or from REFERSION_SECRET_KEY, never from the command line; given neither, it keeps the saved one.`;

class UsageError extends Error {}

const SECRET_KEY_VARIABLE = "REFERSION_SECRET_KEY";

const SECRET_KEY_ON_COMMAND_LINE =
  "--secret-key is not accepted: a command line is visible to every user of this machine and kept in the shell's history.\n" +
  `Pass the secret key in the ${SECRET_KEY_VARIABLE} environment variable, or on standard input with --secret-key-stdin ` +
  "(on a terminal it asks for it without showing it).";

/** Why mapping an order needs SHOPIFY_API_SECRET, which the shop commands otherwise do without. */
const CART_ID_SECRET = "an order without a cart token gets a cart id derived with the app's secret";

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

function requireShop(value: string | undefined): string {
  if (!value) throw new UsageError("Name the shop, e.g. my-store.myshopify.com");
  if (!SHOP_DOMAIN.test(value)) throw new UsageError(`"${value}" is not a myshopify.com domain`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  // Refused before anything else reads the arguments, and without repeating the value.
  if (argv.some((arg) => arg === "--secret-key" || arg.startsWith("--secret-key="))) throw new UsageError(SECRET_KEY_ON_COMMAND_LINE);
  // A shop's secret key comes from this command's own environment: a copy left in .env, which
  // every command reads, would quietly be saved for whichever shop is configured next.
  const secretKeyFromEnvironment = process.env[SECRET_KEY_VARIABLE] || undefined;
  if (fs.existsSync(".env")) process.loadEnvFile(".env");
  const secretKeyInEnvFile = !secretKeyFromEnvironment && Boolean(process.env[SECRET_KEY_VARIABLE]);
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "public-key": { type: "string" },
      "secret-key-stdin": { type: "boolean", default: false },
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
        if (rest.length > 1) {
          throw new UsageError(`configure takes the shop only; the secret key goes in ${SECRET_KEY_VARIABLE} or through --secret-key-stdin`);
        }
        if (secretKeyInEnvFile) {
          throw new UsageError(`${SECRET_KEY_VARIABLE} is set in .env: remove it, and give the key in this command's environment or through --secret-key-stdin`);
        }
        if (values["secret-key-stdin"] && secretKeyFromEnvironment) {
          throw new UsageError(`Give the secret key one way: ${SECRET_KEY_VARIABLE} or --secret-key-stdin, not both`);
        }
        const secretKey = values["secret-key-stdin"] ? await readSecretKeyFromStdin() : (secretKeyFromEnvironment ?? "");
        if (secretKey === null) {
          console.error("Cancelled: nothing was saved");
          return 130;
        }
        const { registerSecret } = await import("../app/logger.server");
        registerSecret(secretKey);
        const { SettingsFormSchema, fieldErrorsOf } = await import("../app/settings/settings-form");
        const { getShopSettings, refersionKeysOf, saveShopSettings, toSettingsView } = await import("../app/settings/shop-settings.server");
        const { SecretBoxError } = await import("../app/settings/secret-box.server");
        const { releaseOrdersWaitingForKeys } = await import("../app/orders/release.server");
        const { ORDER_KIND } = await import("../app/outbox/delivery-kind");
        const stored = await getShopSettings(shop);
        const current = toSettingsView(stored);
        if (!secretKey && !current.secretKeySet) {
          throw new UsageError(`${shop} has no Refersion secret key saved yet: give it in ${SECRET_KEY_VARIABLE} or on standard input with --secret-key-stdin`);
        }
        if (!secretKey) {
          // The saved key is kept: it must still open with the configured encryption keys, or
          // "saved" would be reported while every order of the shop waits for a readable secret.
          try {
            refersionKeysOf(stored);
          } catch (error) {
            if (!(error instanceof SecretBoxError)) throw error;
            throw new UsageError(
              `${shop}'s saved secret key (ending ${current.secretKeyLast4}) cannot be decrypted: ${error.message}.\n` +
                `Give the secret key again (${SECRET_KEY_VARIABLE} or --secret-key-stdin), or set the key it was saved with as ` +
                "APP_ENCRYPTION_KEY_PREVIOUS and run rotate-encryption-key. Nothing was saved.",
            );
          }
        }
        const parsed = SettingsFormSchema.safeParse({
          ...current,
          publicKey: values["public-key"] ?? current.publicKey,
          secretKey,
          forwardingEnabled: !values.disable,
          forwardTestOrders: values["forward-test-orders"] ?? current.forwardTestOrders,
        });
        if (!parsed.success) {
          const errors = Object.entries(fieldErrorsOf(parsed.error)).map(([field, message]) => `${field}: ${message}`);
          throw new UsageError(errors.join("; "));
        }
        // Saving releases the orders that waited for keys, mapped then: what mapping needs is
        // checked first, so that a missing variable leaves nothing half done.
        const waiting = await prisma.delivery.count({ where: { shop, kind: ORDER_KIND, status: "waiting_for_keys" } });
        if (waiting > 0) {
          await explainEnvError(
            `${countOf(waiting, "order")} waiting for ${shop}'s keys ${pluralForm(waiting, "is", "are")} mapped when keys are saved, and ${CART_ID_SECRET}; nothing was saved.`,
            async () => appSecretEnv(),
          );
        }
        await saveShopSettings(shop, parsed.data);
        const released = await releaseOrdersWaitingForKeys(shop);
        const view = toSettingsView(await getShopSettings(shop));
        console.log(
          `${shop}: public key ${view.publicKey}, secret key ending ${view.secretKeyLast4}, forwarding ${view.forwardingEnabled ? "on" : "off"}` +
            (released ? `; ${countOf(released, "waiting order")} released` : ""),
        );
        return 0;
      }
      case "deliveries": {
        const shop = requireShop(rest[0]);
        const { describeReason } = await import("../app/admin/delivery-reasons");
        const stored = await prisma.delivery.findMany({
          where: { shop },
          orderBy: { createdAt: "asc" },
          select: {
            orderId: true, orderName: true, kind: true, totalAmount: true, currency: true, status: true,
            attempts: true, lastStatusCode: true, reasonCode: true, reasonDetail: true, updatedAt: true, attributionSource: true,
          },
        });
        // The code for scripts, and the sentence the admin shows, from the same table.
        const rows = stored.map((row) => ({ ...row, reason: describeReason(row.reasonCode, row.reasonDetail) }));
        if (values.json) {
          console.log(JSON.stringify(rows, null, 2));
        } else {
          console.log(
            renderTable(
              ["order", "id", "total", "status", "attempts", "last code", "updated", "attribution", "reason"],
              rows.map((row) => [
                row.orderName ?? "", row.orderId, row.totalAmount ? `${row.totalAmount} ${row.currency}` : "", row.status,
                row.attempts, row.lastStatusCode, row.updatedAt.toISOString(), row.attributionSource ?? "", row.reason,
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
        const { retryDelivery } = await import("../app/orders/manual-retry.server");
        const { describeRetryRefusal } = await import("../app/admin/delivery-reasons");
        const result = await explainEnvError(
          `Retrying order ${orderId} maps it again, and ${CART_ID_SECRET}; nothing was changed.`,
          () => retryDelivery(shop, { orderId }),
        );
        if (!result.ok) {
          console.error(`order ${orderId} of ${shop}: ${describeRetryRefusal(result)}`);
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
          `${countOf(report.examined, "secret")} examined: ${report.reEncrypted} re-encrypted with key ${report.keyId}, ` +
            `${report.alreadyCurrent} already under it, ${report.failed.length} could not be opened`,
        );
        for (const failure of report.failed) console.error(`${failure.shop}: ${failure.reason}`);
        // Then the buyers' personal data in the outbox and the shops' Shopify tokens.
        const { resealStoredData } = await import("../app/settings/sealed-data-rotation.server");
        const sealed = await resealStoredData();
        console.log(
          `Stored data sealed with key ${sealed.keyId}: ${countOf(sealed.deliveriesResealed, "order row")}, ` +
            `${countOf(sealed.sessionsResealed, "session")}, ${countOf(sealed.receivedWebhooksResealed, "waiting order webhook")}, ` +
            `${sealed.failed.length} could not be opened`,
        );
        for (const failure of sealed.failed) console.error(`${failure.shop}: ${failure.table} ${failure.id}: ${failure.reason}`);
        // Then the shops' Refersion webhook signing secrets.
        const { rotateSigningSecrets } = await import("../app/conversions/receiver.server");
        const signing = await rotateSigningSecrets();
        console.log(`Conversion webhook signing secrets: ${signing.reEncrypted} re-encrypted, ${signing.failed.length} could not be opened`);
        for (const shop of signing.failed) console.error(`${shop}: the conversion webhook signing secret could not be opened`);
        return report.failed.length === 0 && sealed.failed.length === 0 && signing.failed.length === 0 ? 0 : 1;
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

/** Runs `work`; a missing or invalid variable is reported with what needed it. */
async function explainEnvError<T>(why: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EnvError) throw new EnvError(`${why}\n${error.message}`);
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // Errors meant for the operator are printed as they are; anything else is unexpected.
    const expected = error instanceof UsageError || ["EnvError", "MissingSecretKeyError", "SecretBoxError", "SecretKeyInputError"].includes(error?.name);
    console.error(expected ? error.message : `Error: ${error?.message ?? error}`);
    process.exit(1);
  },
);
