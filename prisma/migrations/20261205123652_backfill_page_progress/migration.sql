-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_BackfillJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "since" DATETIME NOT NULL,
    "until" DATETIME,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "processed" INTEGER NOT NULL DEFAULT 0,
    "enqueued" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "cursor" TEXT,
    "error" TEXT,
    "accessProblem" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "pageProcessed" INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "new_BackfillJob" ("accessProblem", "createdAt", "cursor", "enqueued", "error", "finishedAt", "id", "leaseOwner", "leaseUntil", "processed", "shop", "since", "status", "total", "until", "updatedAt") SELECT "accessProblem", "createdAt", "cursor", "enqueued", "error", "finishedAt", "id", "leaseOwner", "leaseUntil", "processed", "shop", "since", "status", "total", "until", "updatedAt" FROM "BackfillJob";
DROP TABLE "BackfillJob";
ALTER TABLE "new_BackfillJob" RENAME TO "BackfillJob";
CREATE INDEX "BackfillJob_shop_createdAt_idx" ON "BackfillJob"("shop", "createdAt");
CREATE INDEX "BackfillJob_status_idx" ON "BackfillJob"("status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

