/**
 * The lower folders of app/ know nothing of the domain above them: the outbox sends whatever was
 * planned and asks its caller (through a type it declares itself) whether a shop may be sent to;
 * the Refersion client stands alone; the job loop only logs. Each folder below may import only
 * the nodes listed for it (docs/ARCHITECTURE.md), so a domain import into them fails here rather
 * than in a later cycle.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildImportGraph, type ImportGraph } from "./import-graph";

const APP = fileURLToPath(new URL("../../app/", import.meta.url));

const ALLOWED: Record<string, string[]> = {
  "outbox/": ["jobs/", "refersion/", "database/", "db.server", "logger.server", "env.server"],
  "refersion/": [],
  "jobs/": ["logger.server"],
};

/** Each import of a listed folder outside its allow-list, as "from -> to (files)". */
function forbiddenImports(graph: ImportGraph, allowed: Record<string, string[]>): string[] {
  return Object.entries(allowed).flatMap(([from, targets]) =>
    [...(graph.get(from) ?? new Map<string, string[]>()).entries()]
      .filter(([to]) => !targets.includes(to))
      .map(([to, files]) => `${from} -> ${to} (${files.join(", ")})`),
  );
}

describe("the lower folders of app/", () => {
  it("import only what their allow-list names", () => {
    const graph = buildImportGraph(APP);
    for (const folder of Object.keys(ALLOWED)) expect(graph.has(folder), folder).toBe(true);
    expect(forbiddenImports(graph, ALLOWED)).toEqual([]);
  });

  it("are reported when one imports a domain folder", () => {
    const app = "/repo/app";
    const graph = buildImportGraph(
      app,
      Object.entries({
        "outbox/worker.ts": `import type { Gate } from "../settings/gate";\nimport { loop } from "../jobs/loop";`,
        "jobs/loop.ts": `import { logger } from "~/logger.server";`,
        "refersion/client.ts": `import { env } from "../env.server";`,
      }).map(([file, source]) => ({ file: path.join(app, file), source })),
    );
    expect(forbiddenImports(graph, ALLOWED)).toEqual(["outbox/ -> settings/ (outbox/worker.ts)", "refersion/ -> env.server (refersion/client.ts)"]);
  });
});
