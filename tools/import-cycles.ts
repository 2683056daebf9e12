// The import graph of the project's TypeScript, and the cycles in it. Every kind of import counts,
// type-only ones included: a cycle of types still ties the files' layering into a knot. Only the
// syntax is needed, so each file is parsed on its own with the compiler bundled in ts-morph.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ts } from "ts-morph";

/** File -> the files it imports (both relative to the root the graph was built from). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every `.ts` (and `.js`) file under `dirs` (relative to `root`), with its imports of other project files. */
export function importGraph(root: string, dirs: readonly string[]): ImportGraph {
  const files = dirs.flatMap((dir) => listTypeScript(resolve(root, dir)));
  const graph = new Map<string, string[]>();
  for (const file of files.sort()) {
    const targets = new Set<string>();
    for (const specifier of importSpecifiers(file, readFileSync(file, "utf8"))) {
      const target = resolveSpecifier(file, specifier);
      if (target) targets.add(relative(root, target));
    }
    graph.set(relative(root, file), [...targets].sort());
  }
  return graph;
}

/** The module specifiers of every static import, `import type`, `export ... from` and literal `import()`. */
export function importSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      specifiers.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) specifiers.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/**
 * The cycles of the graph: for each file that lies on one, the shortest chain from it back to
 * itself (`[a, b, a]`), each cycle listed once whichever file it was found from.
 */
export function findImportCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const start of [...graph.keys()].sort()) {
    const chain = shortestCycleThrough(graph, start);
    if (!chain) continue;
    const key = canonicalKey(chain.slice(0, -1));
    if (seen.has(key)) continue;
    seen.add(key);
    cycles.push(chain);
  }
  return cycles;
}

function shortestCycleThrough(graph: ImportGraph, start: string): string[] | undefined {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const file = queue[head];
    for (const next of graph.get(file) ?? []) {
      if (next === start) {
        const chain = [start];
        for (let at: string | undefined = file; at !== undefined && at !== start; at = previous.get(at)) chain.splice(1, 0, at);
        if (file !== start) return [...chain, start];
        return [start, start];
      }
      if (!previous.has(next) && next !== start) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** The same cycle found from any of its files gives the same key. */
function canonicalKey(files: readonly string[]): string {
  let best = 0;
  for (let i = 1; i < files.length; i++) if (files[i] < files[best]) best = i;
  return [...files.slice(best), ...files.slice(0, best)].join(" -> ");
}

function listTypeScript(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listTypeScript(path));
    else if (entry.isFile() && /\.[jt]s$/.test(entry.name) && !entry.name.endsWith(".d.ts")) found.push(path);
  }
  return found;
}

/** A relative specifier as Node resolves it here (explicit `.ts`, or `.js` standing for `.ts`, or a folder's index). */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  return candidates.find((candidate) => candidate.endsWith(".ts") && existsSync(candidate) && statSync(candidate).isFile());
}
