/**
 * Imports between scripts/ and test/ go one way: tests may use the tooling in scripts/ (the
 * stand-ins, the app launcher, the fake storefront), and nothing in scripts/ imports from test/,
 * so the command-line tools, the demo, the soak and the bench run without the test suite.
 * Data under test/fixtures/ may still be read by path.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { filesUnder, importsOf } from "./import-graph";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The imports of one file of scripts/ that land in test/, as "file -> specifier". */
function importsIntoTest(root: string, file: string, source: string): string[] {
  const testDir = path.join(root, "test") + path.sep;
  return importsOf(source)
    .filter((specifier) => specifier.startsWith(".") && path.resolve(path.dirname(file), specifier).startsWith(testDir))
    .map((specifier) => `${path.relative(root, file)} -> ${specifier}`);
}

describe("scripts/", () => {
  it("imports nothing from test/", () => {
    const files = filesUnder(path.join(ROOT, "scripts"));
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((file) => importsIntoTest(ROOT, file, fs.readFileSync(file, "utf8")))).toEqual([]);
  });

  it("is checked for static, side-effect and dynamic imports, at any depth", () => {
    const root = "/repo";
    const source = [
      'import { a } from "../../test/support/a";',
      'import "../../test/support/preload.mjs";',
      'const { b } = await import("../../test/support/b");',
      'import { c } from "../cli/c";',
      'import { d } from "../../app/d";',
    ].join("\n");
    expect(importsIntoTest(root, "/repo/scripts/bench/x.ts", source)).toEqual([
      "scripts/bench/x.ts -> ../../test/support/a",
      "scripts/bench/x.ts -> ../../test/support/b",
      "scripts/bench/x.ts -> ../../test/support/preload.mjs",
    ]);
  });
});
