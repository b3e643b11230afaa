/** Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went. */
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The server build, wherever it runs from (the bench runs copies of it from bench-results/builds). */
const isAppBuild = (url: string) => /\/(build\/server|bench-results\/builds\/[^/]+)\/index\.js/.test(url);

function where(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (isAppBuild(url)) return "app (server build)";
  if (url.startsWith("node:")) return "node";
  return url ? path.basename(url) : "(native / gc / idle)";
}

export function summarizeProfile(file: string, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const bump = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusiveApp = new Map<string, number>();
  const inclusivePackage = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") continue;
    bump(byPackage, where(frame.url), time);
    bump(byFunction, `${frame.functionName || "(anonymous)"}  ${where(frame.url)}:${frame.lineNumber + 1}`, time);
    // Inclusive time: walk up the stack, counting each distinct frame or package once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const pkg = `package ${where(f.url)}`;
      if (f.url && !seen.has(pkg)) {
        bump(inclusivePackage, where(f.url), time);
        seen.add(pkg);
      }
      if (!isAppBuild(f.url)) continue;
      const key = `${f.functionName || "(anonymous)"}:${f.lineNumber + 1}`;
      if (!seen.has(key)) {
        bump(inclusiveApp, key, time);
        seen.add(key);
      }
    }
  }
  const pct = (time: number) => `${((time / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, time]) => `  ${pct(time)}  ${(time / 1000).toFixed(0).padStart(6)} ms  ${name}`)
      .join("\n");
  return [
    `busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled`,
    `\nself time by package:\n${list(byPackage, 12)}`,
    `\ninclusive time by package (on the stack):\n${list(inclusivePackage, 12)}`,
    `\nself time by function:\n${list(byFunction, top)}`,
    `\ninclusive time under the app's own functions (build/server/index.js):\n${list(inclusiveApp, top)}`,
  ].join("\n");
}

