-- Statuses, reasons and attempt outcomes become enums, the free-text "reason" becomes
-- "reasonCode" + "reasonDetail", and a reversal names the row it runs after ("runsAfterId").
-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('waiting_for_keys', 'waiting_for_payment', 'pending', 'retrying', 'delivered', 'failed', 'skipped');

-- CreateEnum
CREATE TYPE "DeliveryReason" AS ENUM ('uninstalled_on_arrival', 'forwarding_off_on_arrival', 'test_order', 'zero_value', 'cancelled_before_resend', 'refunded_before_resend', 'voided_before_resend', 'unmappable', 'stored_order_unavailable', 'unreadable_webhook', 'secret_unreadable', 'uninstalled_before_delivery', 'forwarding_off_before_delivery', 'never_mapped', 'predecessor_not_delivered', 'refersion_unavailable', 'refersion_rejected', 'retries_exhausted', 'cancelled_before_paid', 'cancelled_before_sent', 'cancelled_before_received', 'awaiting_order', 'cancellations_off', 'refunds_off', 'no_money_refunded', 'no_items_refunded', 'sent_order_unreadable', 'already_reversed_by_refunds', 'refunded_items_not_credited', 'nothing_credited_any_more');

-- CreateEnum
CREATE TYPE "AttemptOutcome" AS ENUM ('delivered', 'retry', 'permanent');

-- CreateEnum
CREATE TYPE "BackfillStatus" AS ENUM ('queued', 'running', 'done', 'failed');

-- AlterTable: the values stored are already the enums' names.
ALTER TABLE "BackfillJob" ALTER COLUMN "status" DROP DEFAULT,
ALTER COLUMN "status" SET DATA TYPE "BackfillStatus" USING ("status"::"BackfillStatus"),
ALTER COLUMN "status" SET DEFAULT 'queued';

-- AlterTable
ALTER TABLE "DeliveryAttempt" ALTER COLUMN "outcome" SET DATA TYPE "AttemptOutcome" USING ("outcome"::"AttemptOutcome");

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "reasonCode" "DeliveryReason",
ADD COLUMN     "reasonDetail" TEXT,
ADD COLUMN     "runsAfterId" TEXT,
ALTER COLUMN "status" SET DATA TYPE "DeliveryStatus" USING ("status"::"DeliveryStatus");

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
  END)::"DeliveryReason"
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
UPDATE "Delivery" AS "reversal" SET "runsAfterId" = "order"."id"
FROM "Delivery" AS "order"
WHERE "reversal"."kind" <> 'order' AND "order"."shop" = "reversal"."shop" AND "order"."orderId" = "reversal"."orderId" AND "order"."kind" = 'order';

-- AlterTable
ALTER TABLE "Delivery" DROP COLUMN "reason";

-- CreateIndex
CREATE INDEX "Delivery_runsAfterId_idx" ON "Delivery"("runsAfterId");

-- AddForeignKey
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_runsAfterId_fkey" FOREIGN KEY ("runsAfterId") REFERENCES "Delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
