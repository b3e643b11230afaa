-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "orderPlacedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "ShopSettings" ADD COLUMN     "setupGuideDismissedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Delivery_shop_orderPlacedAt_idx" ON "Delivery"("shop", "orderPlacedAt");

