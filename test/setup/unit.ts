import { TEST_ENV } from "../support/test-env";

// Unit tests have no database: a DATABASE_URL the app refuses makes one that reaches for it fail
// at once, instead of creating prisma/dev.sqlite.
Object.assign(process.env, TEST_ENV, { DATABASE_URL: "unit-tests-have-no-database" });
