-- AlterTable
ALTER TABLE "BackfillJob" ADD COLUMN     "pageProcessed" INTEGER NOT NULL DEFAULT 0;

