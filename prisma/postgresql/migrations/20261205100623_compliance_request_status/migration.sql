-- CreateEnum
CREATE TYPE "ComplianceStatus" AS ENUM ('done', 'failed');

-- AlterTable
ALTER TABLE "ComplianceRequest" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "lastAttemptAt" TIMESTAMP(3),
ADD COLUMN     "status" "ComplianceStatus" NOT NULL DEFAULT 'done';

-- CreateIndex
CREATE INDEX "ComplianceRequest_status_idx" ON "ComplianceRequest"("status");

