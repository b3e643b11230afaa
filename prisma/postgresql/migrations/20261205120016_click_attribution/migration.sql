-- CreateEnum
CREATE TYPE "AttributionSource" AS ENUM ('cart_token', 'cart_attribute', 'pixel', 'discount_code', 'none');

-- CreateEnum
CREATE TYPE "PixelStatus" AS ENUM ('connected', 'not_connected', 'removed');

-- CreateEnum
CREATE TYPE "PixelProblem" AS ENUM ('offline_access', 'shopify_unavailable', 'access_denied', 'settings_refused', 'unexpected_answer');

-- AlterEnum
ALTER TYPE "DeliveryReason" ADD VALUE 'awaiting_click_data';

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "attributionSource" "AttributionSource";

-- AlterTable
ALTER TABLE "ShopSettings" ADD COLUMN     "clickDataWaitMinutes" INTEGER NOT NULL DEFAULT 5,
ADD COLUMN     "pixelCheckedAt" TIMESTAMP(3),
ADD COLUMN     "pixelProblem" "PixelProblem",
ADD COLUMN     "pixelStatus" "PixelStatus",
ADD COLUMN     "webPixelId" TEXT;

-- CreateTable
CREATE TABLE "ClickHint" (
    "shop" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "affiliateId" TEXT NOT NULL,
    "checkoutTokenHash" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClickHint_pkey" PRIMARY KEY ("shop","orderId")
);

-- CreateIndex
CREATE INDEX "ClickHint_receivedAt_idx" ON "ClickHint"("receivedAt");

