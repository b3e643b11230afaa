/**
 * Compliance requests naming 10,000 orders on PostgreSQL (test/privacy/large-requests.ts): the
 * app's one client (app/db.server.ts reuses globalThis.__prisma) is pointed at a throwaway
 * PostgreSQL database before the compliance module is loaded.
 */
import type { PrismaClient } from "@prisma/client";
import { openProvider, type ProviderHarness } from "../database/providers";
import { largeRequestTests } from "./large-requests";

let harness: ProviderHarness;
let prisma: PrismaClient;
let compliance: typeof import("~/privacy/compliance.server");

beforeAll(async () => {
  harness = await openProvider("postgresql");
  prisma = harness.client(await harness.freshDatabase());
  globalThis.__prisma = prisma;
  compliance = await import("~/privacy/compliance.server");
}, 180_000);

afterAll(async () => {
  globalThis.__prisma = undefined;
  await harness?.close();
});

describe("compliance requests at any size on PostgreSQL", { timeout: 180_000 }, () => {
  largeRequestTests(() => ({ prisma, compliance }));
});
