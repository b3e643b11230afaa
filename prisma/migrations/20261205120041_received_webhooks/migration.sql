-- CreateTable
CREATE TABLE "ReceivedWebhook" (
    "sequence" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "webhookId" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "eventId" TEXT,
    "apiVersion" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME,
    "lastError" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "ReceivedWebhook_webhookId_key" ON "ReceivedWebhook"("webhookId");

-- CreateIndex
CREATE INDEX "ReceivedWebhook_nextAttemptAt_idx" ON "ReceivedWebhook"("nextAttemptAt");

