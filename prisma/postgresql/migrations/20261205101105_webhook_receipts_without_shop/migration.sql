-- AlterTable
ALTER TABLE "WebhookReceipt" DROP COLUMN "shop";

