/**
 * The import graph of app/ by folder: each folder directly under app/ is one node, and so is each
 * file directly under app/ (app/db.server.ts, app/entry.server.tsx, ...). An edge A -> B means a
 * file of A imports a file of B (static imports, re-exports and dynamic import() alike).
 */
import fs from "node:fs";
import path from "node:path";

const SOURCE = /\.(ts|tsx|js|jsx|mjs)$/;
const SPECIFIERS = [/\bfrom\s+["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /^\s*import\s+["']([^"']+)["']/gm];

export type ImportGraph = Map<string, Map<string, string[]>>;

/** The source files under a folder, at any depth. */
export function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return SOURCE.test(entry.name) ? [full] : [];
  });
}

/** The node of a path inside app/: its top-level folder, or the file itself. */
export function nodeOf(appDir: string, file: string): string | null {
  const relative = path.relative(appDir, file).split(path.sep);
  if (relative[0] === ".." || relative[0] === "") return null;
  return relative.length === 1 ? relative[0].replace(SOURCE, "") : `${relative[0]}/`;
}

/** The specifiers a source text imports. */
export function importsOf(source: string): string[] {
  return SPECIFIERS.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]));
}

/** Edges between nodes, each with the files that make it (for the failure message). */
export function buildImportGraph(appDir: string, files: { file: string; source: string }[] = filesUnder(appDir).map((file) => ({ file, source: fs.readFileSync(file, "utf8") }))): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const { file, source } of files) {
    const from = nodeOf(appDir, file);
    if (!from) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    for (const specifier of importsOf(source)) {
      const target = specifier.startsWith("~/") ? path.join(appDir, specifier.slice(2)) : specifier.startsWith(".") ? path.resolve(path.dirname(file), specifier) : null;
      if (!target) continue;
      const to = nodeOf(appDir, target);
      if (!to || to === from) continue;
      const edges = graph.get(from)!;
      edges.set(to, [...(edges.get(to) ?? []), path.relative(appDir, file)]);
    }
  }
  return graph;
}

/** Every strongly connected set of two or more nodes (Tarjan): each is at least one cycle. */
export function cyclesOf(graph: ImportGraph): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      for (let member = stack.pop()!; ; member = stack.pop()!) {
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indexOf.has(node)) visit(node);
  return found;
}
