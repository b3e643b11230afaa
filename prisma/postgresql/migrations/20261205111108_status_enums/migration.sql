-- ShopSettings.connectionStatus, ShopSettings.offlineAccessProblem and BackfillJob.accessProblem
-- become enums. The columns are converted in place, keeping their values (a value outside the
-- enum, never written by the app but possible in free text, becomes NULL).

-- CreateEnum
CREATE TYPE "ConnectionStatus" AS ENUM ('valid', 'rejected', 'plan_unavailable', 'unreachable', 'secret_unreadable');

-- CreateEnum
CREATE TYPE "OfflineAccessProblem" AS ENUM ('no_session', 'refresh_token_expired', 'refresh_refused', 'migration_refused');

-- AlterTable
ALTER TABLE "BackfillJob" ALTER COLUMN "accessProblem" TYPE "OfflineAccessProblem" USING (
  CASE WHEN "accessProblem" IN ('no_session', 'refresh_token_expired', 'refresh_refused', 'migration_refused')
    THEN "accessProblem"::"OfflineAccessProblem" END
);

-- AlterTable
ALTER TABLE "ShopSettings"
ALTER COLUMN "connectionStatus" TYPE "ConnectionStatus" USING (
  CASE WHEN "connectionStatus" IN ('valid', 'rejected', 'plan_unavailable', 'unreachable', 'secret_unreadable')
    THEN "connectionStatus"::"ConnectionStatus" END
),
ALTER COLUMN "offlineAccessProblem" TYPE "OfflineAccessProblem" USING (
  CASE WHEN "offlineAccessProblem" IN ('no_session', 'refresh_token_expired', 'refresh_refused', 'migration_refused')
    THEN "offlineAccessProblem"::"OfflineAccessProblem" END
);
