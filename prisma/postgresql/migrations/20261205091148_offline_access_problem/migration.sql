-- AlterTable
ALTER TABLE "ShopSettings" ADD COLUMN     "offlineAccessProblem" TEXT,
ADD COLUMN     "offlineAccessProblemAt" TIMESTAMP(3);

