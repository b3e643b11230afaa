import { PrismaClient } from "@prisma/client";
import { createDriverAdapter, providerFor } from "./database/driver-adapter";
import { env } from "./env.server";

declare global {
  // Reused across dev-server reloads so a rebuild does not open a new connection pool.
  var __prisma: PrismaClient | undefined;
}

function createPrismaClient(): PrismaClient {
  const url = env().DATABASE_URL;
  const client = new PrismaClient({ adapter: createDriverAdapter(url) });
  return client;
}

const prisma: PrismaClient = globalThis.__prisma ?? createPrismaClient();
if (env().NODE_ENV !== "production") globalThis.__prisma = prisma;

/** Which database this process talks to. */
export const databaseProvider = providerFor(env().DATABASE_URL);

export default prisma;
