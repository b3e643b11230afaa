-- CreateEnum
CREATE TYPE "ConversionStatus" AS ENUM ('pending', 'approved', 'denied');

-- CreateTable
CREATE TABLE "ConversionReceiver" (
    "shop" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "secretCiphertext" TEXT,
    "secretKeyId" TEXT,
    "secretLast4" TEXT,
    "connectedAt" TIMESTAMP(3),
    "lastReceivedAt" TIMESTAMP(3),
    "graceHours" INTEGER NOT NULL DEFAULT 24,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ConversionReceiver_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "Conversion" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "conversionId" TEXT NOT NULL,
    "orderId" TEXT,
    "status" "ConversionStatus" NOT NULL,
    "deniedReason" TEXT,
    "affiliateId" TEXT,
    "affiliateCode" TEXT,
    "affiliateName" TEXT,
    "commission" TEXT,
    "total" TEXT,
    "currency" TEXT,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "refersionCreatedAt" TIMESTAMP(3),
    "refersionUpdatedAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Conversion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ConversionReceiver_token_key" ON "ConversionReceiver"("token");

-- CreateIndex
CREATE INDEX "Conversion_shop_orderId_idx" ON "Conversion"("shop", "orderId");

-- CreateIndex
CREATE INDEX "Conversion_shop_receivedAt_idx" ON "Conversion"("shop", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Conversion_shop_conversionId_key" ON "Conversion"("shop", "conversionId");

