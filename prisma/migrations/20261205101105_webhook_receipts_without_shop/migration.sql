-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_WebhookReceipt" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "topic" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_WebhookReceipt" ("key", "receivedAt", "topic") SELECT "key", "receivedAt", "topic" FROM "WebhookReceipt";
DROP TABLE "WebhookReceipt";
ALTER TABLE "new_WebhookReceipt" RENAME TO "WebhookReceipt";
CREATE INDEX "WebhookReceipt_receivedAt_idx" ON "WebhookReceipt"("receivedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

