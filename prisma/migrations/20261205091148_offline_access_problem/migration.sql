-- AlterTable
ALTER TABLE "ShopSettings" ADD COLUMN "offlineAccessProblem" TEXT;
ALTER TABLE "ShopSettings" ADD COLUMN "offlineAccessProblemAt" DATETIME;

