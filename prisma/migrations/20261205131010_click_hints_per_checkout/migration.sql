-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ClickHint" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "shop" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "affiliateId" TEXT NOT NULL,
    "checkoutTokenHash" TEXT,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_ClickHint" ("affiliateId", "checkoutTokenHash", "orderId", "receivedAt", "shop") SELECT "affiliateId", "checkoutTokenHash", "orderId", "receivedAt", "shop" FROM "ClickHint";
DROP TABLE "ClickHint";
ALTER TABLE "new_ClickHint" RENAME TO "ClickHint";
CREATE INDEX "ClickHint_receivedAt_idx" ON "ClickHint"("receivedAt");
CREATE UNIQUE INDEX "ClickHint_shop_orderId_checkoutTokenHash_key" ON "ClickHint"("shop", "orderId", "checkoutTokenHash");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

