-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN "orderPlacedAt" DATETIME;

-- AlterTable
ALTER TABLE "ShopSettings" ADD COLUMN "setupGuideDismissedAt" DATETIME;

-- CreateIndex
CREATE INDEX "Delivery_shop_orderPlacedAt_idx" ON "Delivery"("shop", "orderPlacedAt");

