-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ComplianceRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "customerId" TEXT,
    "orderIds" TEXT,
    "outcome" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" TEXT NOT NULL DEFAULT 'done',
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "lastAttemptAt" DATETIME
);
INSERT INTO "new_ComplianceRequest" ("customerId", "id", "orderIds", "outcome", "receivedAt", "shop", "topic") SELECT "customerId", "id", "orderIds", "outcome", "receivedAt", "shop", "topic" FROM "ComplianceRequest";
DROP TABLE "ComplianceRequest";
ALTER TABLE "new_ComplianceRequest" RENAME TO "ComplianceRequest";
CREATE INDEX "ComplianceRequest_shop_receivedAt_idx" ON "ComplianceRequest"("shop", "receivedAt");
CREATE INDEX "ComplianceRequest_status_idx" ON "ComplianceRequest"("status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

