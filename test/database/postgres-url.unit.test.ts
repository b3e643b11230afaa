import { postgresConnectionConfig, withDatabase } from "~/database/postgres-adapter";
import { migrationsPathFor, providerFor, schemaPathFor } from "~/database/driver-adapter";

describe("DATABASE_URL", () => {
  it("chooses the provider, schema and migrations by its scheme", () => {
    expect(providerFor("file:./prisma/dev.sqlite")).toBe("sqlite");
    expect(providerFor("postgres://u@h/db")).toBe("postgresql");
    expect(providerFor("postgresql://u@h/db")).toBe("postgresql");
    expect(() => providerFor("mysql://u@h/db")).toThrow(/file: \(SQLite\) or postgres/);
    expect(schemaPathFor("file:x.sqlite")).toBe("prisma/schema.prisma");
    expect(schemaPathFor("postgres://u@h/db")).toBe("prisma/postgresql/schema.prisma");
    expect(migrationsPathFor("file:x.sqlite")).toBe("prisma/migrations");
    expect(migrationsPathFor("postgresql://u@h/db")).toBe("prisma/postgresql/migrations");
  });

  it("translates Prisma's pool parameters for node-postgres and passes the rest through", () => {
    const { pool } = postgresConnectionConfig(
      "postgresql://app:p%40ss@db.internal:6543/shop?connection_limit=4&pool_timeout=7&sslmode=require&schema=public",
    );
    expect(pool.max).toBe(4);
    expect(pool.connectionTimeoutMillis).toBe(7_000);
    expect(pool.connectionString).toBe("postgresql://app:p%40ss@db.internal:6543/shop?sslmode=require");
    expect(postgresConnectionConfig("postgres://u@h/db").pool.max).toBeUndefined();
  });

  it("refuses what it cannot honour", () => {
    expect(() => postgresConnectionConfig("postgres://u@h/db?schema=app")).toThrow(/schema=app is not supported/);
    expect(() => postgresConnectionConfig("postgres://u@h/db?connection_limit=many")).toThrow(/connection_limit/);
  });

  it("names another database on the same server (the shadow database)", () => {
    expect(withDatabase("postgresql://u:p@h:5432/main?sslmode=require", "prisma_shadow_1")).toBe(
      "postgresql://u:p@h:5432/prisma_shadow_1?sslmode=require",
    );
  });
});
