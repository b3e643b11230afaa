/**
 * One way to the database in domain code: the process's one client, imported from app/db.server.
 * Only the outbox's machinery (the worker's claims and the intake's group commit), which tests run
 * against several clients at once as several instances would, is handed a client; it reaches
 * domain code only through the hooks it is given. No other module takes or builds a client.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("../../app/", import.meta.url));
/** Where a client is built (app/database/, app/db.server.ts) or handed over (the outbox's machinery). */
const ALLOWED = new Set(["db.server.ts", "outbox/worker.server.ts", "outbox/inserts.server.ts"]);

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return /\.(ts|tsx)$/.test(entry.name) ? [full] : [];
  });
}

describe("reaching the database", () => {
  it("domain code neither takes nor builds a Prisma client: it imports app/db.server's", () => {
    const offending = files(APP)
      .map((file) => path.relative(APP, file).split(path.sep).join("/"))
      .filter((file) => !file.startsWith("database/") && !ALLOWED.has(file))
      .filter((file) => /\bPrismaClient\b|createPrismaClient|createDriverAdapter/.test(fs.readFileSync(path.join(APP, file), "utf8")));
    expect(offending).toEqual([]);
  });
});
