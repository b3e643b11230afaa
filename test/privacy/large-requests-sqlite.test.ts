/** Compliance requests naming 10,000 orders on SQLite (test/privacy/large-requests.ts). */
import prisma from "~/db.server";
import * as compliance from "~/privacy/compliance.server";
import { largeRequestTests } from "./large-requests";

describe("compliance requests at any size on SQLite", { timeout: 120_000 }, () => {
  largeRequestTests(() => ({ prisma, compliance }));
});
