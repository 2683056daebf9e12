// Translates a js-engine model (the code js-compiler.ts emits: straight-line block functions over
// one Int32Array, activity flags, the adaptive switch) into C++ with the same meaning, so that the
// same activity evaluation runs as native code (native-build.ts compiles it into an N-API addon).
//
// The model's code is a small subset of JavaScript, and the translation keeps JavaScript's number
// semantics exactly: every value is an int64_t holding the JavaScript number (the model's values
// are integers far below 2^53, except for one fractional constant of the adaptive switch, which
// stays a double); the bitwise operators work on the 32-bit two's complement of their operands and
// give an int32 (or, for >>>, a uint32), as JavaScript's do; stores into the state arrays keep the
// low 32 bits, as an Int32Array store does. Anything outside the subset is an error naming it.
import ts from "typescript";

/**
 * The C++ of `struct Model` (without includes; native-build.ts wraps it): constructed on the state
 * array, with `comb()`, `edge()`, the flag arrays `F` and `A`, `evaluatedCount()`, `fullEdgesCount()`
 * and the constant `blocks`.
 */
export interface NativeModelSource {
  code: string;
}

const BITWISE: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.AmpersandToken]: "jsAnd",
  [ts.SyntaxKind.BarToken]: "jsOr",
  [ts.SyntaxKind.CaretToken]: "jsXor",
  [ts.SyntaxKind.LessThanLessThanToken]: "jsShl",
  [ts.SyntaxKind.GreaterThanGreaterThanToken]: "jsSar",
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: "jsShr",
};
const COMPOUND: Partial<Record<ts.SyntaxKind, ts.SyntaxKind>> = {
  [ts.SyntaxKind.AmpersandEqualsToken]: ts.SyntaxKind.AmpersandToken,
  [ts.SyntaxKind.BarEqualsToken]: ts.SyntaxKind.BarToken,
  [ts.SyntaxKind.CaretEqualsToken]: ts.SyntaxKind.CaretToken,
  [ts.SyntaxKind.PlusEqualsToken]: ts.SyntaxKind.PlusToken,
  [ts.SyntaxKind.MinusEqualsToken]: ts.SyntaxKind.MinusToken,
};
const PLAIN: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.PlusToken]: "+",
  [ts.SyntaxKind.MinusToken]: "-",
  [ts.SyntaxKind.AsteriskToken]: "*",
  [ts.SyntaxKind.PercentToken]: "%",
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: "==",
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: "!=",
  [ts.SyntaxKind.LessThanToken]: "<",
  [ts.SyntaxKind.LessThanEqualsToken]: "<=",
  [ts.SyntaxKind.GreaterThanToken]: ">",
  [ts.SyntaxKind.GreaterThanEqualsToken]: ">=",
  [ts.SyntaxKind.AmpersandAmpersandToken]: "&&",
  [ts.SyntaxKind.BarBarToken]: "||",
};
/** The model's Int32Arrays: S is the state (shared with JS), the others the activity bookkeeping. */
const ARRAYS = new Set(["S", "F", "A", "EW", "EV", "L"]);
const HELPERS = new Set(["bitsAt", "shiftInto", "mulInto", "divInto"]);

export class NativeTranslationError extends Error {}

export function translateModel(jsCode: string, top: string): NativeModelSource {
  return new Translator(jsCode, top).translate();
}

class Translator {
  private readonly file: ts.SourceFile;
  private readonly members: string[] = [];
  private readonly methods: string[] = [];
  private readonly tables = new Set<string>();
  private readonly definitions: string[] = [];

  constructor(jsCode: string, private readonly top: string) {
    this.file = ts.createSourceFile(`${top}.js`, jsCode, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  }

  translate(): NativeModelSource {
    const init: string[] = [];
    for (const st of this.file.statements) {
      if (ts.isExpressionStatement(st) && ts.isStringLiteral(st.expression)) continue; // "use strict"
      if (ts.isFunctionDeclaration(st)) {
        this.methods.push(`void ${st.name!.text}() ${this.block(st.body!)}`);
        continue;
      }
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) this.topLevel(d, init);
        continue;
      }
      if (ts.isExpressionStatement(st)) {
        init.push(`${this.expr(st.expression)};`);
        continue;
      }
      if (ts.isReturnStatement(st)) {
        this.returned(st.expression!);
        continue;
      }
      this.fail(st, "a top-level statement of this kind");
    }
    // Full evaluation keeps no flags; the instance still shows (empty) arrays.
    if (!this.members.some((m) => m.startsWith("int32_t F["))) this.members.push("int32_t F[1] = {};", "int32_t A[1] = {};");
    if (!this.members.some((m) => m.includes(" blocks = "))) this.members.push("static constexpr int64_t blocks = 0;");
    const code = [
      `struct Model {`,
      `int32_t* S;`,
      ...this.members,
      `explicit Model(int32_t* state) : S(state) {`,
      ...init,
      `}`,
      ...this.methods,
      `};`,
      ...this.definitions,
    ].join("\n");
    return { code };
  }

  /** `var X = new Int32Array(n)`, `var x = 0`, `var CB = [c0, ...]`, `var bitsAt = R.bitsAt`. */
  private topLevel(d: ts.VariableDeclaration, init: string[]): void {
    const name = (d.name as ts.Identifier).text;
    const value = d.initializer;
    if (value === undefined) this.fail(d, "a declaration without a value");
    if (ts.isPropertyAccessExpression(value) && ts.isIdentifier(value.expression) && value.expression.text === "R") return;
    if (ts.isNewExpression(value) && ts.isIdentifier(value.expression) && value.expression.text === "Int32Array") {
      const size = value.arguments?.[0];
      if (!ARRAYS.has(name)) this.fail(d, `an Int32Array named ${name}`);
      if (size === undefined || !ts.isNumericLiteral(size)) this.fail(d, `an Int32Array whose length is not a number`);
      this.members.push(`int32_t ${name}[${Math.max(1, Number(size.text))}] = {};`);
      return;
    }
    if (ts.isArrayLiteralExpression(value)) {
      const fns = value.elements.map((e) => (ts.isIdentifier(e) ? `&Model::${e.text}` : this.fail(e, "an array element other than a function")));
      this.tables.add(name);
      // Declared in the class, defined after it: the functions it points to are members too.
      this.members.push(`static void (Model::* const ${name}[${Math.max(1, fns.length)}])();`);
      this.definitions.push(`void (Model::* const Model::${name}[${Math.max(1, fns.length)}])() = { ${fns.join(", ") || "nullptr"} };`);
      return;
    }
    this.members.push(`${this.isFractional(value) ? "double" : "int64_t"} ${name} = 0;`);
    init.push(`${name} = ${this.expr(value)};`);
  }

  /** The returned object: counters as methods (`evaluated`, `fullEdges`); the rest JS already knows. */
  private returned(e: ts.Expression): void {
    if (!ts.isObjectLiteralExpression(e)) this.fail(e, "a return value other than an object");
    for (const p of e.properties) {
      if (!ts.isPropertyAssignment(p) || !ts.isIdentifier(p.name)) continue;
      const name = p.name.text;
      if ((name === "evaluated" || name === "fullEdges") && ts.isArrowFunction(p.initializer)) {
        this.methods.push(`int64_t ${name}Count() { return ${this.expr(p.initializer.body as ts.Expression)}; }`);
      }
      if (name === "blocks" && ts.isNumericLiteral(p.initializer)) this.members.push(`static constexpr int64_t blocks = ${p.initializer.text};`);
    }
  }

  private isFractional(e: ts.Expression): boolean {
    return ts.isNumericLiteral(e) && !Number.isInteger(Number(e.text));
  }

  // ---- statements ---------------------------------------------------------------

  private block(b: ts.Block): string {
    return `{\n${b.statements.map((s) => this.statement(s)).join("\n")}\n}`;
  }

  private statement(s: ts.Statement): string {
    if (ts.isBlock(s)) return this.block(s);
    if (ts.isVariableStatement(s)) return this.declarations(s.declarationList);
    if (ts.isExpressionStatement(s)) return `${this.expr(s.expression)};`;
    if (ts.isIfStatement(s)) {
      const otherwise = s.elseStatement ? ` else ${this.statement(s.elseStatement)}` : "";
      return `if (${this.expr(s.expression)}) ${this.statement(s.thenStatement)}${otherwise}`;
    }
    if (ts.isSwitchStatement(s)) {
      const clauses = s.caseBlock.clauses.map((c) => {
        const head = ts.isCaseClause(c) ? `case ${this.expr(c.expression)}:` : "default:";
        return `${head} { ${c.statements.filter((x) => !ts.isBreakStatement(x)).map((x) => this.statement(x)).join(" ")} } ${c.statements.some(ts.isBreakStatement) ? "break;" : ""}`;
      });
      return `switch (${this.expr(s.expression)}) { ${clauses.join(" ")} }`;
    }
    if (ts.isForStatement(s)) {
      const initial = s.initializer === undefined ? ";" : ts.isVariableDeclarationList(s.initializer) ? this.declarations(s.initializer) : `${this.expr(s.initializer)};`;
      return `for (${initial} ${s.condition ? this.expr(s.condition) : ""}; ${s.incrementor ? this.expr(s.incrementor) : ""}) ${this.statement(s.statement)}`;
    }
    if (ts.isWhileStatement(s)) return `while (${this.expr(s.expression)}) ${this.statement(s.statement)}`;
    if (ts.isBreakStatement(s)) return "break;";
    if (ts.isReturnStatement(s)) return s.expression ? `return ${this.expr(s.expression)};` : "return;";
    if (ts.isEmptyStatement(s)) return ";";
    return this.fail(s, "a statement of this kind");
  }

  private declarations(list: ts.VariableDeclarationList): string {
    return list.declarations.map((d) => `int64_t ${(d.name as ts.Identifier).text} = ${d.initializer ? this.expr(d.initializer) : "0"};`).join(" ");
  }

  // ---- expressions ----------------------------------------------------------------

  private expr(e: ts.Expression): string {
    if (ts.isParenthesizedExpression(e)) return this.expr(e.expression);
    if (ts.isNumericLiteral(e)) {
      const v = Number(e.text);
      return Number.isInteger(v) ? `INT64_C(${v})` : String(v);
    }
    if (e.kind === ts.SyntaxKind.TrueKeyword) return "true";
    if (e.kind === ts.SyntaxKind.FalseKeyword) return "false";
    if (ts.isIdentifier(e)) return e.text;
    if (ts.isElementAccessExpression(e)) {
      const array = this.arrayName(e.expression);
      return `static_cast<int64_t>(${array}[${this.expr(e.argumentExpression)}])`;
    }
    if (ts.isPrefixUnaryExpression(e)) {
      const a = this.expr(e.operand);
      switch (e.operator) {
        case ts.SyntaxKind.TildeToken: return `jsNot(${a})`;
        case ts.SyntaxKind.MinusToken: return `(-${a})`;
        case ts.SyntaxKind.ExclamationToken: return `(!${a})`;
        case ts.SyntaxKind.PlusPlusToken: return `(++${this.lvalue(e.operand)})`;
        case ts.SyntaxKind.MinusMinusToken: return `(--${this.lvalue(e.operand)})`;
      }
      return this.fail(e, "this unary operator");
    }
    if (ts.isPostfixUnaryExpression(e)) {
      return `(${this.lvalue(e.operand)}${e.operator === ts.SyntaxKind.PlusPlusToken ? "++" : "--"})`;
    }
    if (ts.isConditionalExpression(e)) return `(${this.expr(e.condition)} ? ${this.expr(e.whenTrue)} : ${this.expr(e.whenFalse)})`;
    if (ts.isBinaryExpression(e)) return this.binary(e);
    if (ts.isCallExpression(e)) return this.call(e);
    return this.fail(e, "an expression of this kind");
  }

  private binary(e: ts.BinaryExpression): string {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsToken) return this.assign(e.left, this.expr(e.right));
    const compound = COMPOUND[op];
    if (compound !== undefined) return this.assign(e.left, this.apply(compound, this.expr(e.left), this.expr(e.right), e));
    return this.apply(op, this.expr(e.left), this.expr(e.right), e);
  }

  private apply(op: ts.SyntaxKind, a: string, b: string, at: ts.Node): string {
    const fn = BITWISE[op];
    if (fn) return `${fn}(${a}, ${b})`;
    const plain = PLAIN[op];
    if (plain) return `(${a} ${plain} ${b})`;
    return this.fail(at, `the operator ${ts.tokenToString(op) ?? op}`);
  }

  /** An assignment; a store into an Int32Array keeps the low 32 bits. */
  private assign(target: ts.Expression, value: string): string {
    if (ts.isElementAccessExpression(target)) {
      return `(${this.arrayName(target.expression)}[${this.expr(target.argumentExpression)}] = static_cast<int32_t>(${value}))`;
    }
    return `(${this.lvalue(target)} = ${value})`;
  }

  private lvalue(e: ts.Expression): string {
    if (ts.isIdentifier(e)) return e.text;
    if (ts.isElementAccessExpression(e)) return `${this.arrayName(e.expression)}[${this.expr(e.argumentExpression)}]`;
    return this.fail(e, "an assignment target of this kind");
  }

  private arrayName(e: ts.Expression): string {
    if (ts.isIdentifier(e) && ARRAYS.has(e.text)) return e.text;
    return this.fail(e, "indexing anything but the model's Int32Arrays");
  }

  private call(e: ts.CallExpression): string {
    const callee = e.expression;
    // Math.trunc(x / y) is the only division: integer division, as both operands are integers.
    if (ts.isPropertyAccessExpression(callee) && callee.getText(this.file) === "Math.trunc" && e.arguments.length === 1) {
      const inner = stripParens(e.arguments[0]);
      if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.SlashToken) {
        return `(${this.expr(inner.left)} / ${this.expr(inner.right)})`;
      }
    }
    const args = e.arguments.map((a) => this.expr(a));
    const arity = (n: number) => {
      if (args.length !== n) this.fail(e, `a call with ${args.length} arguments where ${n} are meant`);
    };
    if (ts.isIdentifier(callee)) {
      if (HELPERS.has(callee.text)) return `${callee.text}(${args.join(", ")})`;
      arity(0);
      return `${callee.text}()`;
    }
    if (ts.isElementAccessExpression(callee) && ts.isIdentifier(callee.expression) && this.tables.has(callee.expression.text)) {
      return `(this->*${callee.expression.text}[${this.expr(callee.argumentExpression)}])()`;
    }
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
      const object = callee.expression.text, method = callee.name.text;
      const known: Record<string, [number, () => string]> = {
        "Math.clz32": [1, () => `jsClz32(${args[0]})`],
        "Math.imul": [2, () => `jsImul(${args[0]}, ${args[1]})`],
        "Math.min": [2, () => `std::min<int64_t>(${args[0]}, ${args[1]})`],
        "S.copyWithin": [3, () => `std::memmove(S + ${args[0]}, S + ${args[1]}, sizeof(int32_t) * (${args[2]} - ${args[1]}))`],
      };
      const translation = known[`${object}.${method}`];
      if (translation !== undefined) {
        arity(translation[0]);
        return translation[1]();
      }
    }
    return this.fail(e, "this call");
  }

  private fail(node: ts.Node, what: string): never {
    const { line } = this.file.getLineAndCharacterOfPosition(node.getStart(this.file));
    throw new NativeTranslationError(`the native engine cannot translate ${what} in the model of ${this.top} (line ${line + 1} of its code: ${node.getText(this.file).slice(0, 120)})`);
  }
}

function stripParens(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  return e;
}
