/**
 * `shopify app build` with the project's own Shopify CLI (a dev dependency), offline: no login,
 * no Partner Dashboard, nothing but the files of this repository. The CLI checks (Theme Check) and
 * bundles the theme app extension, and bundles the web pixel extension with esbuild, resolving its
 * dependency from the root's node_modules (test/web-pixel runs that bundle). shopify.web.toml has
 * no `build` command, so the Remix app is left to `npm run build`. The CLI only needs `client_id`
 * to be present in shopify.app.toml; the placeholder is enough. Without
 * `--skip-dependencies-installation` it would first run `npm install` in every folder with a
 * package.json (the root and the pixel's).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { SHOPIFY_CLI as CLI, runShopifyCli } from "../support/shopify-cli";

const ROOT = path.resolve(".");
const APP_TOML = path.join(ROOT, "shopify.app.toml");
/**
 * Where the CLI writes the web pixel's bundle (and esbuild's metafile). Git ignores it, but
 * `eslint .` does not, so the test removes what its build wrote.
 */
const PIXEL_BUILD_OUTPUT = path.join(ROOT, "extensions/refersion-checkout-pixel/dist");

/**
 * Keys the CLI no longer supports in shopify.app.toml. `shopify app build` reads past them
 * silently, but `shopify app deploy` rewrites the file to delete them and warns.
 */
const REMOVED_APP_TOML_KEYS = ["include_config_on_deploy"];

/**
 * How the CLI words an objection to the configuration that does not fail the command. Other
 * warnings are about the machine, not the repository (a global CLI installed beside this one).
 */
const CONFIGURATION_WARNING = /deprecat|obsolete|no longer supported|unsupported|not supported|has been removed|unknown (key|field|property)|unrecognized/i;

const runCli = (args: string[], home: string) => runShopifyCli(args, { cwd: ROOT, home });

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "shopify-cli-home-"));
});
afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(PIXEL_BUILD_OUTPUT, { recursive: true, force: true });
});

describe("the Shopify CLI of this project", () => {
  it("is a dev dependency, installed by npm ci, and what npm run dev runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.devDependencies["@shopify/cli"], "@shopify/cli must be a devDependency").toBeDefined();
    expect(pkg.scripts.dev).toBe("shopify app dev");
    expect(fs.existsSync(CLI), `${CLI} is missing: run npm ci`).toBe(true);
  });

  it("builds the app offline, without an error or a warning", async () => {
    if (!fs.existsSync(CLI)) throw new Error(`The Shopify CLI is not installed (${CLI} is missing): run npm ci`);
    const { status, output, ms } = await runCli(["app", "build", "--skip-dependencies-installation"], home);
    const report = `shopify app build exited ${status} after ${ms} ms:\n${output}`;
    expect(status, report).toBe(0);
    expect(output, report).toMatch(/refersion-order-forwarding built!/);
    expect(output, report).toMatch(/Bundling theme extension refersion-tracking/);
    expect(output, report).toMatch(/refersion-checkout-pixel successfully built/);
    const warnings = output.split("\n").filter((line) => CONFIGURATION_WARNING.test(line));
    expect(warnings, report).toEqual([]);
  }, 120_000);

  it("finds no key in shopify.app.toml that the CLI no longer supports", () => {
    const toml = fs.readFileSync(APP_TOML, "utf8");
    for (const key of REMOVED_APP_TOML_KEYS) {
      expect(toml, `shopify.app.toml sets ${key}, which Shopify's CLI no longer supports`).not.toMatch(new RegExp(`^\\s*${key}\\s*=`, "m"));
    }
  });
});
