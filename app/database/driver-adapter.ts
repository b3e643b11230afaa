import { PrismaLibSQL } from "@prisma/adapter-libsql";

/** Which database a DATABASE_URL names, decided by its scheme. */
export type DatabaseProvider = "sqlite" | "postgresql";

export function providerFor(databaseUrl: string): DatabaseProvider {
  if (databaseUrl.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return "postgresql";
  throw new Error(
    `DATABASE_URL must start with file: (SQLite) or postgres:// / postgresql:// (PostgreSQL); got "${databaseUrl.split(":")[0]}:..."`,
  );
}

/** The Prisma schema (and migrations folder beside it) for a DATABASE_URL. */
export function schemaPathFor(databaseUrl: string): string {
  return providerFor(databaseUrl) === "sqlite"
    ? "prisma/schema.prisma"
    : "prisma/postgresql/schema.prisma";
}

/**
 * The Prisma driver adapter for a DATABASE_URL. Prisma runs without native engines here, so
 * every connection goes through a JavaScript driver: libSQL for SQLite files.
 */
export function createDriverAdapter(databaseUrl: string) {
  const provider = providerFor(databaseUrl);
  if (provider === "sqlite") {
    return new PrismaLibSQL({ url: databaseUrl });
  }
  throw new Error("PostgreSQL support is not configured in this build");
}
