-- Statuses, reasons and attempt outcomes become enums (stored as TEXT on SQLite, checked by
-- Prisma), the free-text "reason" becomes "reasonCode" + "reasonDetail", and a reversal names the
-- row it runs after ("runsAfterId").
ALTER TABLE "Delivery" ADD COLUMN "reasonCode" TEXT;
ALTER TABLE "Delivery" ADD COLUMN "reasonDetail" TEXT;
ALTER TABLE "Delivery" ADD COLUMN "runsAfterId" TEXT;

-- Existing rows: the sentence stored in "reason" becomes a code (and the free text that went
-- with it, if any, a detail). Sentences written by earlier versions of the app, matched exactly.
UPDATE "Delivery" SET "reasonCode" = (CASE
    WHEN "reason" = 'The app was uninstalled when this order arrived' THEN 'uninstalled_on_arrival'
    WHEN "reason" = 'Forwarding was switched off when this order arrived' THEN 'forwarding_off_on_arrival'
    WHEN "reason" = 'Test order (forwarding test orders is off)' THEN 'test_order'
    WHEN "reason" = 'Zero-value order: there is nothing to credit' THEN 'zero_value'
    WHEN "reason" = 'The order was cancelled in Shopify before it was resent' THEN 'cancelled_before_resend'
    WHEN "reason" = 'The order was refunded in full before it was resent' THEN 'refunded_before_resend'
    WHEN "reason" = 'The order''s payment was voided before it was resent' THEN 'voided_before_resend'
    WHEN "reason" LIKE 'Shopify''s order could not be mapped: %' THEN 'unmappable'
    WHEN "reason" = 'The stored order is no longer available to map' THEN 'stored_order_unavailable'
    WHEN "reason" LIKE 'The saved Refersion secret key cannot be decrypted%' THEN 'secret_unreadable'
    WHEN "reason" = 'The app was uninstalled before this order was delivered' THEN 'uninstalled_before_delivery'
    WHEN "reason" = 'Forwarding was switched off before this order was delivered' THEN 'forwarding_off_before_delivery'
    WHEN "reason" = 'Nothing to send: the order was never mapped' THEN 'never_mapped'
    WHEN "reason" = 'The order was never delivered to Refersion, so there is nothing to reverse' THEN 'predecessor_not_delivered'
    WHEN "reason" LIKE 'Gave up after 72 hours of retries. Last error: %' THEN 'retries_exhausted'
    WHEN "reason" = 'The order was cancelled in Shopify before it was paid' THEN 'cancelled_before_paid'
    WHEN "reason" = 'The order was cancelled in Shopify before it could be sent' THEN 'cancelled_before_sent'
    WHEN "reason" = 'The order was cancelled in Shopify before the app received it, so it is never sent' THEN 'cancelled_before_received'
    WHEN "reason" LIKE 'Refunded before the app received the order%' THEN 'awaiting_order'
    WHEN "reason" = 'Reversing cancellations is switched off in Settings' THEN 'cancellations_off'
    WHEN "reason" = 'Reversing refunds is switched off in Settings' THEN 'refunds_off'
    WHEN "reason" LIKE 'No money was refunded%' THEN 'no_money_refunded'
    WHEN "reason" LIKE 'No items were refunded%' THEN 'no_items_refunded'
    WHEN "reason" LIKE 'The JSON sent for the order could not be read back%' THEN 'sent_order_unreadable'
    WHEN "reason" = 'Every item of the order was already reversed by its refunds' THEN 'already_reversed_by_refunds'
    WHEN "reason" LIKE 'None of the refunded items is still credited in Refersion%' THEN 'refunded_items_not_credited'
    WHEN "reason" = 'Nothing of it is credited in Refersion any more' THEN 'nothing_credited_any_more'
    WHEN "reason" = 'Waiting for the order itself to be delivered' THEN NULL
    WHEN "orderId" LIKE 'unreadable-%' THEN 'unreadable_webhook'
    WHEN "status" = 'retrying' THEN 'refersion_unavailable'
    WHEN "status" = 'failed' THEN 'refersion_rejected'
    ELSE NULL
  END)
WHERE "reason" IS NOT NULL;

UPDATE "Delivery" SET "reasonDetail" = CASE
    WHEN "reasonCode" = 'unmappable' THEN substr("reason", length('Shopify''s order could not be mapped: ') + 1)
    WHEN "reasonCode" = 'retries_exhausted' THEN substr("reason", length('Gave up after 72 hours of retries. Last error: ') + 1)
    WHEN "reasonCode" IN ('unreadable_webhook', 'refersion_unavailable', 'refersion_rejected') THEN "reason"
    WHEN "reasonCode" IS NULL AND "reason" <> 'Waiting for the order itself to be delivered' THEN "reason"
    ELSE NULL
  END
WHERE "reason" IS NOT NULL;

-- A reversal runs after its order's row: what the worker used to look up on every try is now
-- a column.
UPDATE "Delivery" SET "runsAfterId" = (
    SELECT "order"."id" FROM "Delivery" AS "order"
    WHERE "order"."shop" = "Delivery"."shop" AND "order"."orderId" = "Delivery"."orderId" AND "order"."kind" = 'order'
  )
WHERE "kind" <> 'order';

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Delivery" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'order',
    "orderName" TEXT,
    "totalAmount" TEXT,
    "currency" TEXT,
    "customerId" TEXT,
    "status" TEXT NOT NULL,
    "reasonCode" TEXT,
    "reasonDetail" TEXT,
    "requestBody" TEXT,
    "orderPayload" TEXT,
    "sourceExcerpt" TEXT,
    "webhookId" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "firstAttemptAt" DATETIME,
    "lastAttemptAt" DATETIME,
    "lastStatusCode" INTEGER,
    "deliveredAt" DATETIME,
    "leaseOwner" TEXT,
    "leaseUntil" DATETIME,
    "runsAfterId" TEXT,
    "personalDataRemovedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Delivery_runsAfterId_fkey" FOREIGN KEY ("runsAfterId") REFERENCES "Delivery" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Delivery" ("attempts", "createdAt", "currency", "customerId", "deliveredAt", "firstAttemptAt", "id", "kind", "lastAttemptAt", "lastStatusCode", "leaseOwner", "leaseUntil", "nextAttemptAt", "orderId", "orderName", "orderPayload", "personalDataRemovedAt", "reasonCode", "reasonDetail", "requestBody", "runsAfterId", "shop", "sourceExcerpt", "status", "totalAmount", "updatedAt", "webhookId") SELECT "attempts", "createdAt", "currency", "customerId", "deliveredAt", "firstAttemptAt", "id", "kind", "lastAttemptAt", "lastStatusCode", "leaseOwner", "leaseUntil", "nextAttemptAt", "orderId", "orderName", "orderPayload", "personalDataRemovedAt", "reasonCode", "reasonDetail", "requestBody", "runsAfterId", "shop", "sourceExcerpt", "status", "totalAmount", "updatedAt", "webhookId" FROM "Delivery";
DROP TABLE "Delivery";
ALTER TABLE "new_Delivery" RENAME TO "Delivery";
CREATE INDEX "Delivery_status_nextAttemptAt_idx" ON "Delivery"("status", "nextAttemptAt");
CREATE INDEX "Delivery_shop_createdAt_idx" ON "Delivery"("shop", "createdAt");
CREATE INDEX "Delivery_runsAfterId_idx" ON "Delivery"("runsAfterId");
CREATE UNIQUE INDEX "Delivery_shop_orderId_kind_key" ON "Delivery"("shop", "orderId", "kind");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

