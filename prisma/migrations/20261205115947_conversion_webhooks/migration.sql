-- CreateTable
CREATE TABLE "ConversionReceiver" (
    "shop" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "secretCiphertext" TEXT,
    "secretKeyId" TEXT,
    "secretLast4" TEXT,
    "connectedAt" DATETIME,
    "lastReceivedAt" DATETIME,
    "graceHours" INTEGER NOT NULL DEFAULT 24,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Conversion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "conversionId" TEXT NOT NULL,
    "orderId" TEXT,
    "status" TEXT NOT NULL,
    "deniedReason" TEXT,
    "affiliateId" TEXT,
    "affiliateCode" TEXT,
    "affiliateName" TEXT,
    "commission" TEXT,
    "total" TEXT,
    "currency" TEXT,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "refersionCreatedAt" DATETIME,
    "refersionUpdatedAt" DATETIME,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "ConversionReceiver_token_key" ON "ConversionReceiver"("token");

-- CreateIndex
CREATE INDEX "Conversion_shop_orderId_idx" ON "Conversion"("shop", "orderId");

-- CreateIndex
CREATE INDEX "Conversion_shop_receivedAt_idx" ON "Conversion"("shop", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Conversion_shop_conversionId_key" ON "Conversion"("shop", "conversionId");

