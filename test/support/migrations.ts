import fs from "node:fs";
import path from "node:path";

/** The SQL of each migration in a migrations folder, oldest first: what `prisma migrate deploy` runs. */
export function migrationScripts(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8"));
}
