// Names for emitted wires and registers come from the TypeScript the designer wrote: the variable
// (or object key) that receives the DSL call's result. The source file is parsed once with the
// TypeScript compiler bundled in ts-morph; only the syntax tree is needed, not type information.
import { readFileSync } from "node:fs";
import { ts } from "ts-morph";
import type { SourceLocation } from "./location.ts";

interface ParsedFile {
  source: ts.SourceFile;
  calls: Map<number, ts.CallExpression | ts.NewExpression>;
}

const parsedFiles = new Map<string, ParsedFile | undefined>();

function parse(file: string): ParsedFile | undefined {
  if (!parsedFiles.has(file)) {
    let entry: ParsedFile | undefined;
    try {
      const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
      entry = { source, calls: callsByPosition(source) };
    } catch {
      entry = undefined;
    }
    parsedFiles.set(file, entry);
  }
  return parsedFiles.get(file);
}

/**
 * The identifier the call at `location` is bound to, in snake_case: `const fifo_count =
 * m.signal(8)` gives `fifo_count`, `{ rxNpOk: m.signal(1) }` gives `rx_np_ok`. Undefined when the
 * call's value is not directly bound (it is an argument, part of a larger expression, or destructured).
 */
export function inferName(location: SourceLocation): string | undefined {
  const identifier = inferIdentifier(location);
  return identifier === undefined ? undefined : toSnakeCase(identifier);
}

/**
 * `addressDw` → `address_dw`, `rxNpOk` → `rx_np_ok`, `HTTPServer` → `http_server`, `MAX_LEN` →
 * `max_len`; digits stay with what precedes them (`dw0Data` → `dw0_data`). A `$` (legal in
 * TypeScript, not in a Verilog name we want) becomes `_`.
 */
export function toSnakeCase(identifier: string): string {
  return identifier
    .replace(/\$/g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .replace(/_+/g, "_")
    .replace(/^_+|_+$/g, "") || "unnamed";
}

/** Lower-case words of letters and digits joined by single underscores, starting with a letter. */
export function isSnakeCase(name: string): boolean {
  return /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(name);
}

/** `UPPER_SNAKE_CASE`, the form of localparam names (FSM states, named constants). */
export function isUpperSnakeCase(name: string): boolean {
  return /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(name);
}

function inferIdentifier(location: SourceLocation): string | undefined {
  const parsed = parse(location.file);
  if (!parsed || location.line < 1) return undefined;
  let position: number;
  try {
    position = parsed.source.getPositionOfLineAndCharacter(location.line - 1, location.column - 1);
  } catch {
    return undefined;
  }
  const call = parsed.calls.get(position);
  if (!call) return undefined;
  let node: ts.Node = call;
  while (isTransparentWrapper(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  if (ts.isPropertyAssignment(parent) && parent.initializer === node) {
    const key = parent.name;
    if (ts.isIdentifier(key) || ts.isStringLiteral(key)) return key.text;
  }
  if (ts.isPropertyDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  if (ts.isBinaryExpression(parent) && parent.right === node && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    const target = parent.left;
    if (ts.isIdentifier(target)) return target.text;
    if (ts.isPropertyAccessExpression(target)) return target.name.text;
  }
  return undefined;
}

function isTransparentWrapper(node: ts.Node): boolean {
  return (
    ts.isParenthesizedExpression(node) ||
    ts.isAsExpression(node) ||
    ts.isNonNullExpression(node) ||
    ts.isSatisfiesExpression(node) ||
    ts.isTypeAssertionExpression(node)
  );
}

/**
 * V8 reports a call's position at the called name (`m.signal(...)` at `signal`, `new X()` at
 * `new`), so every call in the file is indexed once by that position.
 */
function callsByPosition(source: ts.SourceFile): Map<number, ts.CallExpression | ts.NewExpression> {
  const index = new Map<number, ts.CallExpression | ts.NewExpression>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const nameNode = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
      index.set(nameNode.getStart(source), node);
    } else if (ts.isNewExpression(node)) {
      index.set(node.getStart(source), node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return index;
}

/**
 * The JSDoc text (`/** ... *\/`, tags left out) of the function whose body holds the call at
 * `location`: for `new Module(...)` inside `export function fifo(...)`, the builder's doc comment.
 * Undefined when there is none.
 */
export function enclosingFunctionDoc(location: SourceLocation): string | undefined {
  const parsed = parse(location.file);
  if (!parsed || location.line < 1) return undefined;
  let position: number;
  try {
    position = parsed.source.getPositionOfLineAndCharacter(location.line - 1, location.column - 1);
  } catch {
    return undefined;
  }
  const call = parsed.calls.get(position);
  for (let node: ts.Node | undefined = call; node; node = node.parent) {
    if (!ts.isFunctionLike(node)) continue;
    // An arrow function or function expression carries its doc on the declaration it is bound to.
    const holder = ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) ? node : ts.isVariableDeclaration(node.parent) ? node.parent : node;
    const texts = ts
      .getJSDocCommentsAndTags(holder)
      .filter(ts.isJSDoc)
      .map((doc) => ts.getTextOfJSDocComment(doc.comment)?.trim() ?? "")
      .filter((text) => text !== "");
    return texts.length > 0 ? texts.join("\n\n") : undefined;
  }
  return undefined;
}
