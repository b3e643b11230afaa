-- CreateTable
CREATE TABLE "ReceivedWebhook" (
    "sequence" SERIAL NOT NULL,
    "webhookId" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "eventId" TEXT,
    "apiVersion" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "lastError" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMP(3),

    CONSTRAINT "ReceivedWebhook_pkey" PRIMARY KEY ("sequence")
);

-- CreateIndex
CREATE UNIQUE INDEX "ReceivedWebhook_webhookId_key" ON "ReceivedWebhook"("webhookId");

-- CreateIndex
CREATE INDEX "ReceivedWebhook_nextAttemptAt_idx" ON "ReceivedWebhook"("nextAttemptAt");

