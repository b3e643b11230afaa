/**
 * The background thread's bundle, built by `npm run build` right after the server build:
 * app/background/background-thread.server.ts and the app modules it imports, bundled by esbuild
 * (the version the Remix compiler uses) into build/background/index.js, with packages left to
 * node_modules as in the server build. It carries the SHA-256 of the server build it was built
 * beside; server/app-server.mjs refuses to start a thread whose bundle names another server
 * build (a stale or half-finished build), rather than run old background code beside new routes.
 * docs/decisions/0020-background-thread-bundle.md.
 *
 * Usage: tsx scripts/build-background.ts [path/to/server/index.js] (default build/server/index.js;
 * the bundle goes to ../background/index.js beside that folder).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Each worker thread of `npm start` and the module it runs: its folder under build/ and its entry.
 * The fast path's writer thread (server/append-thread.mjs) loads only its SQLite statement.
 */
const THREAD_BUNDLES: Record<string, string> = {
  background: "./app/background/background-thread.server",
  "append-thread": "./app/database/append-thread",
};

async function main() {
  const serverBuild = path.resolve(process.argv[2] ?? path.join(ROOT, "build", "server", "index.js"));
  if (!fs.existsSync(serverBuild)) throw new Error(`${serverBuild} is missing: the background bundle is built after the server build (npm run build).`);
  const serverBuildSha256 = crypto.createHash("sha256").update(fs.readFileSync(serverBuild)).digest("hex");
  for (const [folder, entry] of Object.entries(THREAD_BUNDLES)) {
    const outfile = path.join(path.dirname(path.dirname(serverBuild)), folder, "index.js");
    fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
    await build({
      absWorkingDir: ROOT,
      stdin: {
        contents: [`export * from ${JSON.stringify(entry)};`, `export const serverBuildSha256 = ${JSON.stringify(serverBuildSha256)};`].join("\n"),
        resolveDir: ROOT,
        sourcefile: `${folder}-entry.ts`,
        loader: "ts",
      },
      outfile,
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      target: "node22",
      treeShaking: true,
      minifySyntax: true,
      sourcemap: true,
      tsconfig: path.join(ROOT, "tsconfig.json"),
      // As the Remix compiler defines it for `remix build`.
      define: { "process.env.NODE_ENV": JSON.stringify("production") },
      logLevel: "warning",
    });
    console.log(`built ${path.relative(ROOT, outfile)} beside ${path.relative(ROOT, serverBuild)}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
