/**
 * The app reads in one direction: no folder under app/ imports a folder that imports it, directly
 * or through others (routes -> admin / webhooks -> orders -> reversals -> outbox -> refersion,
 * database; docs/ARCHITECTURE.md). Each file directly under app/ counts as its own node.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildImportGraph, cyclesOf, importsOf, nodeOf } from "./import-graph";

const APP = fileURLToPath(new URL("../../app/", import.meta.url));

describe("imports between the folders of app/", () => {
  it("form no cycle", () => {
    const graph = buildImportGraph(APP);
    expect(graph.size).toBeGreaterThan(10);
    const described = cyclesOf(graph).map((cycle) =>
      cycle
        .flatMap((from) => cycle.filter((to) => graph.get(from)?.has(to)).map((to) => `${from} -> ${to} (${graph.get(from)!.get(to)!.join(", ")})`))
        .join("; "),
    );
    expect(described).toEqual([]);
  });
});

describe("the import graph", () => {
  const app = "/repo/app";
  const graphOf = (files: Record<string, string>) =>
    buildImportGraph(
      app,
      Object.entries(files).map(([file, source]) => ({ file: path.join(app, file), source })),
    );

  it("reads static, re-exported, side-effect and dynamic imports, relative or through ~/", () => {
    expect(importsOf(`import a from "./a";\nexport { b } from '../b';\nimport "./c";\nconst d = await import("~/d/e");`).sort()).toEqual(["../b", "./a", "./c", "~/d/e"]);
  });

  it("makes a node of each top-level folder and of each top-level file", () => {
    expect(nodeOf(app, path.join(app, "orders/plan.ts"))).toBe("orders/");
    expect(nodeOf(app, path.join(app, "db.server.ts"))).toBe("db.server");
    expect(nodeOf(app, "/repo/scripts/x.ts")).toBeNull();
  });

  it("finds a cycle through three folders, and none within one folder", () => {
    const cyclic = graphOf({
      "orders/a.ts": `import { b } from "../reversals/b";`,
      "reversals/b.ts": `import { c } from "~/outbox/c";`,
      "outbox/c.ts": `const a = await import("../orders/a");`,
      "outbox/d.ts": `import { c } from "./c";`,
    });
    expect(cyclesOf(cyclic)).toEqual([["orders/", "outbox/", "reversals/"]]);
    const oneWay = graphOf({ "orders/a.ts": `import "../outbox/c";`, "outbox/c.ts": `import "./d";`, "outbox/d.ts": `import "../db.server";` });
    expect(cyclesOf(oneWay)).toEqual([]);
  });

  it("finds a cycle between a top-level file and a folder", () => {
    expect(cyclesOf(graphOf({ "entry.server.tsx": `import "./background/work";`, "background/work.ts": `import "~/entry.server";` }))).toEqual([["background/", "entry.server"]]);
  });
});
