/**
 * The web server's process is started in three ways: `npm start` (package.json, also the
 * Dockerfile's), `npm run dev` (shopify.web.toml's `remix dev -c`) and scripts/app-process.ts (the
 * tests, the soak and the bench, which read the start script). Node's options, the V8 heap sizing
 * among them (docs/decisions/0020-background-thread-bundle.md), are the same in all three.
 */
import fs from "node:fs";
import { parse } from "smol-toml";
import { startScriptNodeOptions } from "../../scripts/app-process";

describe("Node's options of the web server", () => {
  it("size V8's young generation in `npm start`", () => {
    expect(startScriptNodeOptions()).toContainEqual(expect.stringMatching(/^--max-semi-space-size=\d+$/));
  });

  it("are the same under `npm run dev`", () => {
    const web = parse(fs.readFileSync("shopify.web.toml", "utf8")) as { commands: { dev: string } };
    const command = /remix dev -c "([^"]+)"/.exec(web.commands.dev)?.[1];
    expect(command, web.commands.dev).toBeDefined();
    expect(startScriptNodeOptions(command)).toEqual(startScriptNodeOptions());
  });

  it("are read from a start script of the expected shape only", () => {
    expect(startScriptNodeOptions("node ./server/app-server.mjs")).toEqual([]);
    expect(startScriptNodeOptions("node --a=1 --b server/app-server.mjs")).toEqual(["--a=1", "--b"]);
    expect(() => startScriptNodeOptions("tsx ./server/app-server.mjs")).toThrow(/Expected "node \[options\] \.\/server\/app-server\.mjs"/);
    expect(() => startScriptNodeOptions("node ./server/app-server.mjs build/server/index.js")).toThrow(/Expected/);
  });
});
