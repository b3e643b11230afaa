-- AlterTable
ALTER TABLE "BackfillJob" ADD COLUMN "accessProblem" TEXT;

