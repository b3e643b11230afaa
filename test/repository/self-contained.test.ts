/**
 * A clone of the repository works with nothing beside it: no tracked file reads a path above
 * the repository root (such as a sibling `shared/` folder that only some machines have).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findPathEscapes } from "./path-escapes";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Files whose text is code or commands; docs are not read. */
const CODE_FILE = /\.(?:[cm]?[jt]sx?|sh|toml|json)$|^\.ci\/|^Dockerfile$/;
/** Not scanned: data, and this folder, whose tests hold examples of escapes on purpose. */
const NOT_CODE = /^(?:package-lock\.json|test\/fixtures\/|test\/repository\/)/;

function trackedFiles(): string[] {
  const output = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" });
  return output.split("\0").filter(Boolean);
}

describe("the repository is self-contained", () => {
  it("no tracked file reads a path outside the repository root", () => {
    const files = trackedFiles().filter((file) => CODE_FILE.test(file) && !NOT_CODE.test(file));
    expect(files.length).toBeGreaterThan(100);
    const escapes = files.flatMap((file) => {
      const full = path.join(ROOT, file);
      // A tracked file deleted in the working tree (being removed) has nothing to read.
      if (!fs.existsSync(full)) return [];
      return findPathEscapes(ROOT, file, fs.readFileSync(full, "utf8"));
    });
    expect(escapes.map((escape) => `${escape.file}:${escape.line}: ${escape.text} -> ${escape.resolved}`)).toEqual([]);
  });
});

describe("findPathEscapes", () => {
  const root = "/repo";
  const escapesIn = (file: string, source: string) => findPathEscapes(root, file, source).map((escape) => escape.resolved);

  it("finds a sibling folder reached from the working directory", () => {
    expect(escapesIn("test/support/fixtures.ts", 'const dir = path.resolve("..", "shared", "fixtures", "orders");')).toEqual([
      "/shared/fixtures/orders",
    ]);
  });

  it("finds a climb above the root from the file's own folder", () => {
    const source = 'export const FIXTURES_DIR = path.resolve(import.meta.dirname, "..", "..", "..", "shared", "fixtures");';
    expect(escapesIn("scripts/bench/orders.ts", source)).toEqual(["/shared/fixtures"]);
    expect(escapesIn("scripts/bench/orders.ts", 'path.join(__dirname, "../../../shared")')).toEqual(["/shared"]);
  });

  it("accepts climbs that stay inside the repository", () => {
    const source = [
      'path.resolve(import.meta.dirname, "..", "..", "test", "fixtures", "orders")',
      'import { x } from "../../app/refersion/mapping";',
      'fileURLToPath(new URL("../fixtures/orders/", import.meta.url))',
      'path.join(root, "test", "fixtures")',
    ].join("\n");
    expect(escapesIn("scripts/bench/orders.ts", source)).toEqual([]);
  });

  it("finds URLs, imports and literals that leave the root", () => {
    expect(escapesIn("test/a.test.ts", 'new URL("../../shared/x.json", import.meta.url)')).toEqual(["/shared/x.json"]);
    expect(escapesIn("test/a.test.ts", 'import data from "../../outside.json";')).toEqual(["/outside.json"]);
    expect(escapesIn("test/a.test.ts", 'fs.readdirSync(path.join(root, "..", "shared"))')).toEqual(["/shared"]);
  });

  it("takes literals given to fs, a child process or cwd as relative to the root", () => {
    expect(escapesIn("scripts/demo.ts", 'fs.readdirSync("../shared/fixtures/orders")')).toEqual(["/shared/fixtures/orders"]);
    expect(escapesIn("scripts/demo.ts", 'execFileSync("npm", ["test"], { cwd: ".." })')).toEqual(["/"]);
    expect(escapesIn("scripts/demo.ts", 'import { x } from "../app/x";\nconst y = await import("../app/y");')).toEqual([]);
  });

  it("finds climbs after a concatenation or an interpolation", () => {
    expect(escapesIn("scripts/demo.ts", 'const dir = ROOT + "/../shared";')).toEqual(["/shared"]);
    expect(escapesIn("scripts/demo.ts", "const dir = `${ROOT}/../shared/fixtures`;")).toEqual(["/shared/fixtures"]);
  });

  it("reads package.json scripts as commands run from the root", () => {
    const manifest = JSON.stringify({ scripts: { demo: "tsx scripts/demo.ts ../shared/fixtures", test: "vitest run" } });
    expect(escapesIn("package.json", manifest)).toEqual(["/shared/fixtures"]);
    expect(escapesIn("package.json", JSON.stringify({ scripts: { test: "vitest run" } }))).toEqual([]);
  });

  it("finds absolute paths into workplace or home folders", () => {
    expect(escapesIn("scripts/x.ts", 'const dir = "/work/shared/fixtures/orders";')).toEqual(["/work/shared/fixtures/orders"]);
    expect(escapesIn("scripts/x.ts", 'const chromium = "/usr/bin/chromium";')).toEqual([]);
  });

  it("reads shell scripts the way they run: script folder first, then the root", () => {
    expect(escapesIn(".ci/run", 'cd "$(dirname "$0")/.."\nnpm ci')).toEqual([]);
    expect(escapesIn(".ci/run", 'cd "$(dirname "$0")/.."\nif [ ! -d ../shared/fixtures/orders ]; then exit 1; fi')).toEqual([
      "/shared/fixtures/orders",
    ]);
    expect(escapesIn(".ci/postgres-setup.sh", 'source "$(dirname "$0")/../../shared/env"')).toEqual(["/shared/env"]);
  });
});

describe("findPathEscapes with a declared base", () => {
  it("resolves a literal from the folder its comment names, and still checks it", () => {
    const inside = '/** relative to the schema (repository-path: prisma/postgresql). */\nconst OUT = "../../node_modules/.prisma/x";';
    expect(findPathEscapes("/repo", "scripts/s.ts", inside)).toEqual([]);
    const outside = '// repository-path: prisma\nconst OUT = "../../shared/x";';
    expect(findPathEscapes("/repo", "scripts/s.ts", outside).map((escape) => escape.resolved)).toEqual(["/shared/x"]);
  });
});

describe("findPathEscapes with data marked as such", () => {
  it("skips a literal marked not-a-path, and only that one", () => {
    const source = '// A hostile id, not-a-path.\nload("../../etc");\n\n\nfs.readFileSync("../../etc/passwd");';
    expect(findPathEscapes("/repo", "test/a.test.ts", source).map((escape) => escape.resolved)).toEqual(["/etc/passwd"]);
  });
});
