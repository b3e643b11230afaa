import { spawn } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(".");

/** The project's own Shopify CLI (a dev dependency), not a global one. */
export const SHOPIFY_CLI = path.join(ROOT, "node_modules/@shopify/cli/bin/run.js");

/**
 * Runs the project's Shopify CLI offline in a child process and collects everything it prints.
 * `home` is a fresh folder: the CLI keeps its settings and caches there, so a developer's login
 * or cached state cannot change the outcome.
 */
export function runShopifyCli(args: string[], options: { cwd: string; home: string }): Promise<{ status: number | null; output: string; ms: number }> {
  const { home } = options;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SHOPIFY_CLI, ...args], {
      cwd: options.cwd,
      env: {
        // Node 22 (the `node` dev dependency) for anything the CLI starts.
        PATH: `${path.join(ROOT, "node_modules/.bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, ".config"),
        XDG_CACHE_HOME: path.join(home, ".cache"),
        XDG_DATA_HOME: path.join(home, ".local/share"),
        XDG_STATE_HOME: path.join(home, ".local/state"),
        // No prompts, no usage reports, no colors: nothing that needs a terminal or the network.
        CI: "1",
        SHOPIFY_CLI_NO_ANALYTICS: "1",
        NO_COLOR: "1",
        // As a deploy pipeline would run it (the build's outcome does not depend on it).
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output, ms: Date.now() - started }));
  });
}
