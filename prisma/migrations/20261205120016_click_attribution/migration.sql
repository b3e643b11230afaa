-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN "attributionSource" TEXT;

-- CreateTable
CREATE TABLE "ClickHint" (
    "shop" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "affiliateId" TEXT NOT NULL,
    "checkoutTokenHash" TEXT,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("shop", "orderId")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ShopSettings" (
    "shop" TEXT NOT NULL PRIMARY KEY,
    "publicKey" TEXT,
    "secretKeyCiphertext" TEXT,
    "secretKeyKeyId" TEXT,
    "secretKeyLast4" TEXT,
    "forwardingEnabled" BOOLEAN NOT NULL DEFAULT true,
    "currency" TEXT NOT NULL DEFAULT 'shop',
    "forwardTestOrders" BOOLEAN NOT NULL DEFAULT false,
    "sendCustomerDetails" BOOLEAN NOT NULL DEFAULT true,
    "autoCreditAffiliate" BOOLEAN NOT NULL DEFAULT false,
    "forwardTrigger" TEXT NOT NULL DEFAULT 'created',
    "reverseCancellations" BOOLEAN NOT NULL DEFAULT true,
    "reverseRefunds" BOOLEAN NOT NULL DEFAULT true,
    "connectionStatus" TEXT,
    "connectionCheckedAt" DATETIME,
    "installedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalledAt" DATETIME,
    "offlineAccessProblem" TEXT,
    "offlineAccessProblemAt" DATETIME,
    "scopesUpdatedAt" DATETIME,
    "setupGuideDismissedAt" DATETIME,
    "clickDataWaitMinutes" INTEGER NOT NULL DEFAULT 5,
    "pixelStatus" TEXT,
    "pixelProblem" TEXT,
    "webPixelId" TEXT,
    "pixelCheckedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_ShopSettings" ("autoCreditAffiliate", "connectionCheckedAt", "connectionStatus", "createdAt", "currency", "forwardTestOrders", "forwardTrigger", "forwardingEnabled", "installedAt", "offlineAccessProblem", "offlineAccessProblemAt", "publicKey", "reverseCancellations", "reverseRefunds", "scopesUpdatedAt", "secretKeyCiphertext", "secretKeyKeyId", "secretKeyLast4", "sendCustomerDetails", "setupGuideDismissedAt", "shop", "uninstalledAt", "updatedAt") SELECT "autoCreditAffiliate", "connectionCheckedAt", "connectionStatus", "createdAt", "currency", "forwardTestOrders", "forwardTrigger", "forwardingEnabled", "installedAt", "offlineAccessProblem", "offlineAccessProblemAt", "publicKey", "reverseCancellations", "reverseRefunds", "scopesUpdatedAt", "secretKeyCiphertext", "secretKeyKeyId", "secretKeyLast4", "sendCustomerDetails", "setupGuideDismissedAt", "shop", "uninstalledAt", "updatedAt" FROM "ShopSettings";
DROP TABLE "ShopSettings";
ALTER TABLE "new_ShopSettings" RENAME TO "ShopSettings";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "ClickHint_receivedAt_idx" ON "ClickHint"("receivedAt");

