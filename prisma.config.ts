import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Prisma's CLI checks that engine files exist before every generate/migrate command, and
// would try to download them from a host these machines cannot reach. This project runs
// Prisma entirely on its WebAssembly engines (engine: "js" below, engineType = "client" in
// the schema), so the files are never executed: pointing the check at an existing file of
// the repository satisfies it without a download. Set before Prisma reads its config.
const here = path.dirname(fileURLToPath(import.meta.url));
const placeholder = path.join(here, "prisma", "ENGINES.md");
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= placeholder;
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= placeholder;

import { defineConfig } from "prisma/config";
import { createDriverAdapter, migrationsPathFor, schemaPathFor } from "./app/database/driver-adapter";

// DATABASE_URL's scheme picks everything: file: -> prisma/schema.prisma, prisma/migrations and
// the libSQL adapter; postgres(ql):// -> prisma/postgresql/schema.prisma (generated from the
// former by `npm run db:schemas`), prisma/postgresql/migrations and the node-postgres adapter.
// The default matches app/env.server.ts.
// `npm run setup` reads .env as the app's command line does (variables already set win), so
// it migrates the database the app will use.
const envFile = path.join(here, ".env");
if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
const databaseUrl = process.env.DATABASE_URL || "file:./prisma/dev.sqlite";

export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: schemaPathFor(databaseUrl),
  migrations: { path: migrationsPathFor(databaseUrl) },
  adapter: async () => createDriverAdapter(databaseUrl),
});
