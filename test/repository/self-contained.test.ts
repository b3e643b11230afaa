/**
 * A clone of the repository works with nothing beside it: no tracked file reads a path above
 * the repository root (such as a folder beside the repository that only some machines have).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findPathEscapes } from "./path-escapes";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Files whose text is code or commands; docs are not read. */
const CODE_FILE = /\.(?:[cm]?[jt]sx?|sh|toml|json)$|^\.ci\/|^Dockerfile$/;
/**
 * Not scanned: data, and this folder, the scanner itself: its comments and tests describe escapes
 * (the tests build their examples from placeholders, so they hold no such path either).
 */
const NOT_CODE = /^(?:package-lock\.json|test\/fixtures\/|test\/repository\/)/;

function trackedFiles(): string[] {
  const output = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" });
  return output.split("\0").filter(Boolean);
}

/**
 * The examples below are sources that DO leave the repository, given to the scanner as text. They
 * are written with placeholders, expanded here, so that this file itself holds no path that
 * climbs out of the repository: `{UP}` is a parent-folder step, `{OUT}` a folder beside the
 * repository, `{WORK}` a workplace folder.
 */
function example(template: string): string {
  return template.replaceAll("{UP}", "..").replaceAll("{OUT}", "sibling").replaceAll("{WORK}", "/work");
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
  const escapesIn = (file: string, source: string) => findPathEscapes(root, file, example(source)).map((escape) => escape.resolved);

  it("finds a sibling folder reached from the working directory", () => {
    expect(escapesIn("test/support/fixtures.ts", 'const dir = path.resolve("{UP}", "{OUT}", "fixtures", "orders");')).toEqual([
      "/sibling/fixtures/orders",
    ]);
  });

  it("finds a climb above the root from the file's own folder", () => {
    const source = 'export const FIXTURES_DIR = path.resolve(import.meta.dirname, "{UP}", "{UP}", "{UP}", "{OUT}", "fixtures");';
    expect(escapesIn("scripts/bench/orders.ts", source)).toEqual(["/sibling/fixtures"]);
    expect(escapesIn("scripts/bench/orders.ts", 'path.join(__dirname, "{UP}/{UP}/{UP}/{OUT}")')).toEqual(["/sibling"]);
  });

  it("accepts climbs that stay inside the repository", () => {
    const source = [
      'path.resolve(import.meta.dirname, "{UP}", "{UP}", "test", "fixtures", "orders")',
      'import { x } from "{UP}/{UP}/app/refersion/mapping";',
      'fileURLToPath(new URL("{UP}/fixtures/orders/", import.meta.url))',
      'path.join(root, "test", "fixtures")',
    ].join("\n");
    expect(escapesIn("scripts/bench/orders.ts", source)).toEqual([]);
  });

  it("finds URLs, imports and literals that leave the root", () => {
    expect(escapesIn("test/a.test.ts", 'new URL("{UP}/{UP}/{OUT}/x.json", import.meta.url)')).toEqual(["/sibling/x.json"]);
    expect(escapesIn("test/a.test.ts", 'import data from "{UP}/{UP}/outside.json";')).toEqual(["/outside.json"]);
    expect(escapesIn("test/a.test.ts", 'fs.readdirSync(path.join(root, "{UP}", "{OUT}"))')).toEqual(["/sibling"]);
  });

  it("takes literals given to fs, a child process or cwd as relative to the root", () => {
    expect(escapesIn("scripts/demo.ts", 'fs.readdirSync("{UP}/{OUT}/fixtures/orders")')).toEqual(["/sibling/fixtures/orders"]);
    expect(escapesIn("scripts/demo.ts", 'execFileSync("npm", ["test"], { cwd: "{UP}" })')).toEqual(["/"]);
    expect(escapesIn("scripts/demo.ts", 'import { x } from "{UP}/app/x";\nconst y = await import("{UP}/app/y");')).toEqual([]);
  });

  it("finds climbs after a concatenation or an interpolation", () => {
    expect(escapesIn("scripts/demo.ts", 'const dir = ROOT + "/{UP}/{OUT}";')).toEqual(["/sibling"]);
    expect(escapesIn("scripts/demo.ts", "const dir = `${ROOT}/{UP}/{OUT}/fixtures`;")).toEqual(["/sibling/fixtures"]);
  });

  it("reads package.json scripts as commands run from the root", () => {
    const manifest = JSON.stringify({ scripts: { demo: "tsx scripts/demo.ts {UP}/{OUT}/fixtures", test: "vitest run" } });
    expect(escapesIn("package.json", manifest)).toEqual(["/sibling/fixtures"]);
    expect(escapesIn("package.json", JSON.stringify({ scripts: { test: "vitest run" } }))).toEqual([]);
  });

  it("finds absolute paths into workplace or home folders", () => {
    expect(escapesIn("scripts/x.ts", 'const dir = "{WORK}/{OUT}/fixtures/orders";')).toEqual([example("{WORK}/{OUT}/fixtures/orders")]);
    expect(escapesIn("scripts/x.ts", 'const chromium = "/usr/bin/chromium";')).toEqual([]);
  });

  it("reads shell scripts the way they run: script folder first, then the root", () => {
    expect(escapesIn(".ci/run", 'cd "$(dirname "$0")/{UP}"\nnpm ci')).toEqual([]);
    expect(escapesIn(".ci/run", 'cd "$(dirname "$0")/{UP}"\nif [ ! -d {UP}/{OUT}/fixtures/orders ]; then exit 1; fi')).toEqual([
      "/sibling/fixtures/orders",
    ]);
    expect(escapesIn(".ci/postgres-setup.sh", 'source "$(dirname "$0")/{UP}/{UP}/{OUT}/env"')).toEqual(["/sibling/env"]);
  });
});

describe("findPathEscapes with a declared base", () => {
  it("resolves a literal from the folder its comment names, and still checks it", () => {
    const inside = '/** relative to the schema (repository-path: prisma/postgresql). */\nconst OUT = "{UP}/{UP}/node_modules/.prisma/x";';
    expect(findPathEscapes("/repo", "scripts/s.ts", example(inside))).toEqual([]);
    const outside = '// repository-path: prisma\nconst OUT = "{UP}/{UP}/{OUT}/x";';
    expect(findPathEscapes("/repo", "scripts/s.ts", example(outside)).map((escape) => escape.resolved)).toEqual(["/sibling/x"]);
  });
});

describe("findPathEscapes with data marked as such", () => {
  it("skips a literal marked not-a-path, and only that one", () => {
    const source = '// A hostile id, not-a-path.\nload("{UP}/{UP}/etc");\n\n\nfs.readFileSync("{UP}/{UP}/etc/passwd");';
    expect(findPathEscapes("/repo", "test/a.test.ts", example(source)).map((escape) => escape.resolved)).toEqual(["/etc/passwd"]);
  });
});
