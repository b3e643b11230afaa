-- ShopSettings.connectionStatus, ShopSettings.offlineAccessProblem and BackfillJob.accessProblem
-- become enums. SQLite stores enums as TEXT, so the columns stay: only values outside the enums
-- (none written by the app, but the columns were free text) are cleared, since the client
-- refuses to read them.
UPDATE "ShopSettings" SET "connectionStatus" = NULL
WHERE "connectionStatus" NOT IN ('valid', 'rejected', 'plan_unavailable', 'unreachable', 'secret_unreadable');

UPDATE "ShopSettings" SET "offlineAccessProblem" = NULL
WHERE "offlineAccessProblem" NOT IN ('no_session', 'refresh_token_expired', 'refresh_refused', 'migration_refused');

UPDATE "BackfillJob" SET "accessProblem" = NULL
WHERE "accessProblem" NOT IN ('no_session', 'refresh_token_expired', 'refresh_refused', 'migration_refused');
