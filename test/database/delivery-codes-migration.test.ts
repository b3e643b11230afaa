/**
 * The delivery_codes migration turns the sentences earlier versions stored in Delivery.reason
 * into reason codes (with the free text that went with them as a detail), and points every
 * reversal at its order's row, on both providers. Rows are written with the schema as it was
 * before the migration, the migration runs, and the rows are read back as the app now reads them.
 */
import crypto from "node:crypto";
import path from "node:path";
import { createClient } from "@libsql/client";
import pg from "pg";
import { migrationsAround, useMigrationWorkspace } from "../support/migrations";
import { PROVIDERS, type Provider } from "./providers";

const MIGRATION = "20261205092758_delivery_codes";
const { workDir, postgres } = useMigrationWorkspace("codes");
const scripts = (provider: Provider) => migrationsAround(provider, MIGRATION);

/** [orderId, kind, status, reason as stored before] -> [reasonCode, reasonDetail] after. */
const ROWS: [string, string, string, string | null, string | null, string | null][] = [
  ["1", "order", "skipped", "Test order (forwarding test orders is off)", "test_order", null],
  ["2", "order", "failed", "Shopify's order could not be mapped: line_items: expected an array", "unmappable", "line_items: expected an array"],
  ["3", "order", "failed", "Gave up after 72 hours of retries. Last error: Refersion answered 503", "retries_exhausted", "Refersion answered 503"],
  ["4", "order", "retrying", "Refersion answered 503", "refersion_unavailable", "Refersion answered 503"],
  ["5", "order", "failed", "Refersion rejected the order (422)", "refersion_rejected", "Refersion rejected the order (422)"],
  [
    "6",
    "order",
    "waiting_for_keys",
    "The saved Refersion secret key cannot be decrypted with the app's encryption key (APP_ENCRYPTION_KEY changed without APP_ENCRYPTION_KEY_PREVIOUS?). Save the keys again in Settings to send this order.",
    "secret_unreadable",
    null,
  ],
  ["6", "cancel", "pending", "Waiting for the order itself to be delivered", null, null],
  ["6", "refund:77", "skipped", "Refunded before the app received the order: it is reversed once the order arrives and is sent (nothing is sent if the order never arrives)", "awaiting_order", null],
  ["7", "order", "skipped", "The order was cancelled in Shopify before the app received it, so it is never sent", "cancelled_before_received", null],
  ["7", "cancel", "skipped", "The order was never delivered to Refersion, so there is nothing to reverse", "predecessor_not_delivered", null],
  ["unreadable-w1", "order", "failed", "Shopify sent a body that is not valid JSON (Unexpected end)", "unreadable_webhook", "Shopify sent a body that is not valid JSON (Unexpected end)"],
  ["8", "order", "delivered", null, null, null],
];

describe.each(PROVIDERS)("the delivery_codes migration on %s", (provider) => {
  it("keeps every row, with its sentence as a code and its order as the row it runs after", async () => {
    const { before, migration } = scripts(provider);
    const insert = `INSERT INTO "Delivery" ("id", "shop", "orderId", "kind", "status", "reason", "updatedAt") VALUES ($1, 'codes.myshopify.com', $2, $3, $4, $5, CURRENT_TIMESTAMP)`;
    const select = `SELECT "id", "orderId", "kind", "status", "reasonCode", "reasonDetail", "runsAfterId" FROM "Delivery" ORDER BY "id"`;
    let rows: Record<string, unknown>[];
    if (provider === "sqlite") {
      const db = createClient({ url: `file:${path.join(workDir, "codes.sqlite")}` });
      try {
        for (const script of before) await db.executeMultiple(script);
        for (const [index, [orderId, kind, status, reason]] of ROWS.entries()) {
          await db.execute({ sql: insert.replace(/\$\d/g, "?"), args: [`row${String(index).padStart(2, "0")}`, orderId, kind, status, reason] });
        }
        await db.executeMultiple(migration);
        rows = (await db.execute(select)).rows.map((row) => ({ ...row }));
      } finally {
        db.close();
      }
    } else {
      const db = new pg.Client({ connectionString: await postgres().createDatabase(`codes_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`) });
      await db.connect();
      try {
        for (const script of before) await db.query(script);
        for (const [index, [orderId, kind, status, reason]] of ROWS.entries()) {
          await db.query(insert, [`row${String(index).padStart(2, "0")}`, orderId, kind, status, reason]);
        }
        await db.query(migration);
        rows = (await db.query(select)).rows;
      } finally {
        await db.end();
      }
    }
    const idOf = (orderId: string) => rows.find((row) => row.orderId === orderId && row.kind === "order")!.id;
    expect(rows.map((row) => [row.orderId, row.kind, row.status, row.reasonCode, row.reasonDetail, row.runsAfterId])).toEqual(
      ROWS.map(([orderId, kind, status, , code, detail]) => [orderId, kind, status, code, detail, kind === "order" ? null : idOf(orderId)]),
    );
  }, 120_000);
});
