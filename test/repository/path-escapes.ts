import path from "node:path";

/**
 * Finds paths in a source file that lead outside the repository. A clone of the project has
 * nothing beside it, so a test, script or CI step that reads `../something` above the root
 * works only on the machine where that folder happens to exist.
 *
 * The check is lexical: it resolves what can be resolved without running the code.
 * - `path.resolve(...)` / `path.join(...)` whose leading arguments are string literals, based
 *   on the file's folder when the first argument is `import.meta.dirname` / `__dirname`, else
 *   on the repository root (scripts and tests run from there);
 * - module specifiers (`from "…"`, `import("…")`, `require("…")`, `vi.mock("…")`) and
 *   `new URL("…", import.meta.url)`, relative to the file's folder;
 * - any other quoted literal starting with `../` (given to `fs`, `cwd:`, a child process),
 *   relative to the repository root: the working directory of every command;
 * - a literal starting with `/..` after a concatenation, and `${…}/..` in a template, taken
 *   as climbing from the root;
 * - the `scripts` of package.json, as shell commands run from the root;
 * - in shell scripts, `$(dirname "$0")/…` relative to the script's folder and any other `../`
 *   relative to the root;
 *   (a comment `repository-path: DIR` on the line or the line before says the literal is
 *   relative to DIR instead, for paths written into another file, and is still checked; a
 *   comment `not-a-path` says the text is data, such as a hostile id in a test);
 * - absolute paths into a workplace or home folder (`/work/…`, `/home/…`), which no clone has.
 */
export interface PathEscape {
  file: string;
  line: number;
  text: string;
  resolved: string;
}

const STRING = String.raw`(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|\x60((?:[^\x60\\$]|\\.)*)\x60)`;
const PATH_CALL = /\bpath\.(?:resolve|join)\(/g;
const RELATIVE_LITERAL = new RegExp(String.raw`(["'\x60])(\.\.(?:/[^"'\x60\s]*)?)\1`, "g");
/** What precedes a module specifier or a URL resolved against the module itself. */
const MODULE_CONTEXT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*|\bvi\.(?:mock|doMock|importActual)\s*\(\s*|\bnew URL\(\s*)$/;
const ROOTED_SUFFIX = new RegExp(String.raw`\+\s*(["'\x60])(/\.\.(?:/[^"'\x60\s]*)?)\1`, "g");
const TEMPLATE_CLIMB = /\$\{[^}]+\}((?:\/[^\x60$\s"']*)?\/\.\.(?:\/[^\x60$\s"']*)?)/g;
const ABSOLUTE_FOREIGN = /["'\x60\s=(](\/(?:work|home)\/[^"'\x60\s)]*)/g;
const SHELL_SCRIPT_DIR = /\$\(\s*dirname\s+"?\$(?:0|\{BASH_SOURCE\[0\]\})"?\s*\)((?:\/[^\s"';)]*)?)/g;
const SHELL_RELATIVE = /(?:^|[\s"'=(:])(\.\.(?:\/[^\s"';)]*)?)/g;

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split("\n").length;
}

/**
 * The arguments of a call whose opening parenthesis ends at `start`, split at top-level commas,
 * and the index just past its closing parenthesis.
 */
function callArguments(source: string, start: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let current = "";
  let quote: string | null = null;
  for (let i = start; i < source.length; i += 1) {
    const char = source[i];
    if (quote) {
      current += char;
      if (char === "\\") current += source[++i] ?? "";
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '"' || char === "'" || char === "`") quote = char;
    else if (char === "(" || char === "[" || char === "{") depth += 1;
    else if (char === ")" || char === "]" || char === "}") {
      if (depth === 0) {
        args.push(current.trim());
        return { args, end: i + 1 };
      }
      depth -= 1;
    } else if (char === "," && depth === 0) {
      args.push(current.trim());
      current = "";
      continue;
    }
    current += char;
  }
  return { args, end: source.length };
}

function literalValue(argument: string): string | null {
  const match = new RegExp(`^${STRING}$`).exec(argument);
  if (!match) return null;
  return match[1] ?? match[2] ?? match[3] ?? null;
}

/** A first argument naming the file's own folder: `import.meta.dirname`, `__dirname`, `path.dirname(fileURLToPath(import.meta.url))`. */
const FILE_FOLDER_BASE = /^(?:import\.meta\.dirname|__dirname|path\.dirname\(\s*fileURLToPath\(\s*import\.meta\.url\s*\)\s*\))$/;

/** `repository-path: DIR` on a literal's line or the line before: the literal is relative to DIR. */
const DECLARED_BASE = /repository-path:\s*([\w./-]+)/;
/** `not-a-path` on a literal's line or the line before: the text is data (a hostile id, say). */
const NOT_A_PATH = /\bnot-a-path\b/;

function isOutside(root: string, resolved: string): boolean {
  const relative = path.relative(root, resolved);
  return relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

/** Every escape in one file; `file` is relative to `root`. */
export function findPathEscapes(root: string, file: string, source: string): PathEscape[] {
  const escapes: PathEscape[] = [];
  const folder = path.dirname(path.join(root, file));
  const report = (index: number, text: string, resolved: string) => {
    if (isOutside(root, resolved)) escapes.push({ file, line: lineOf(source, index), text, resolved });
  };
  const lines = source.split("\n");
  const isShell = file.endsWith(".sh") || file.startsWith(".ci/") || /^#!.*\b(?:ba)?sh\b/.test(source);

  for (const match of source.matchAll(ABSOLUTE_FOREIGN)) {
    escapes.push({ file, line: lineOf(source, match.index), text: match[1], resolved: match[1] });
  }

  if (path.basename(file) === "package.json") {
    const scripts = (JSON.parse(source) as { scripts?: Record<string, string> }).scripts ?? {};
    for (const [name, command] of Object.entries(scripts)) {
      for (const match of command.matchAll(SHELL_RELATIVE)) {
        escapes.push(...(isOutside(root, path.join(root, match[1])) ? [{ file, line: lineOf(source, source.indexOf(`"${name}"`)), text: command, resolved: path.join(root, match[1]) }] : []));
      }
    }
    return escapes;
  }

  if (isShell) {
    // Paths based on the script's own folder are resolved from there, then blanked out so the
    // scan for other `../` (relative to the root, where CI runs) does not see them again.
    let rest = source;
    for (const match of source.matchAll(SHELL_SCRIPT_DIR)) {
      report(match.index, match[0], path.join(folder, match[1] || "."));
      rest = rest.slice(0, match.index) + " ".repeat(match[0].length) + rest.slice(match.index + match[0].length);
    }
    for (const match of rest.matchAll(SHELL_RELATIVE)) {
      report(match.index, match[1], path.join(root, match[1]));
    }
    return escapes;
  }

  // Literals inside path calls are judged with their call, not on their own.
  const callSpans: Array<[number, number]> = [];
  const inCall = (index: number) => callSpans.some(([start, end]) => index >= start && index < end);
  for (const match of source.matchAll(PATH_CALL)) {
    const { args, end } = callArguments(source, match.index + match[0].length);
    callSpans.push([match.index, end]);
    let base = root;
    let rest = args;
    if (args.length > 0 && FILE_FOLDER_BASE.test(args[0])) {
      base = folder;
      rest = args.slice(1);
    } else if (args.length > 0 && literalValue(args[0]) === null) {
      // A variable or call as the base (`root`, `process.cwd()`): taken as the repository root.
      rest = args.slice(1);
    }
    const segments: string[] = [];
    for (const argument of rest) {
      const value = literalValue(argument);
      if (value === null) break;
      segments.push(value);
    }
    if (segments.length === 0) continue;
    report(match.index, source.slice(match.index, end), path.resolve(base, ...segments));
  }

  for (const match of source.matchAll(RELATIVE_LITERAL)) {
    if (inCall(match.index)) continue;
    const line = lineOf(source, match.index);
    const context = lines.slice(Math.max(0, line - 2), line).join("\n");
    if (NOT_A_PATH.test(context)) continue;
    const declared = context.match(DECLARED_BASE);
    const isModuleRelative = MODULE_CONTEXT.test(source.slice(Math.max(0, match.index - 40), match.index));
    const base = declared ? path.join(root, declared[1]) : isModuleRelative ? folder : root;
    report(match.index, match[0], path.resolve(base, match[2]));
  }
  for (const match of source.matchAll(ROOTED_SUFFIX)) {
    report(match.index, match[0], path.join(root, match[2]));
  }
  for (const match of source.matchAll(TEMPLATE_CLIMB)) {
    report(match.index, match[0], path.join(root, match[1]));
  }
  return escapes;
}
