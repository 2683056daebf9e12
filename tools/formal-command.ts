// `nvme-host formal`: runs the proofs of rtl-src/formal-proofs.ts (or their broken variants) and
// prints one line each: the proof, its method and depth, the outcome (the failing cycle, and with
// --trace the ports up to it). Exit 0 when every proof holds (or, with --broken, every broken
// variant fails), 1 otherwise.
import { formalProofs } from "../rtl-src/formal-proofs.ts";
import { type FormalResult, runProof } from "./formal.ts";

export function formalProofNames(): string[] {
  return formalProofs.map((p) => p.name);
}

/** What a run expects of each result: the design holds, a broken variant fails. */
export function resultAsExpected(result: FormalResult): boolean {
  return result.variant === "broken" ? result.status === "failed" : result.status === "proved" || result.status === "bounded";
}

export function formatResult(result: FormalResult): string {
  const proof = formalProofs.find((p) => p.name === result.name)!;
  const outcome =
    result.status === "proved"
      ? `proved (induction closed at length ${result.inductionLength})`
      : result.status === "bounded"
        ? `holds for ${result.depth} cycles from reset (bounded)`
        : result.status === "vacuous"
          ? `VACUOUS: the witness cannot rise within ${result.depth} cycles`
          : `FAILS in cycle ${result.failedStep}`;
  const witness = result.witnessStep === undefined ? "" : `, witness in cycle ${result.witnessStep}`;
  const verdict = resultAsExpected(result) ? "ok " : "BAD";
  const method = proof.method === "induction" ? `induction <= ${result.depth}` : `bounded ${result.depth}`;
  return `${verdict} ${result.name.padEnd(27)} ${result.variant.padEnd(6)} ${method.padEnd(14)} ${result.asserts} asserts, ${result.assumes} assumes: ${outcome}${witness} (${result.seconds.toFixed(1)} s)`;
}

export async function formalCommand(names: string[], options: { broken: boolean; trace: boolean; json: boolean }): Promise<number | "usage"> {
  if (names.some((n) => !formalProofNames().includes(n))) return "usage";
  const proofs = names.length === 0 ? formalProofs : formalProofs.filter((p) => names.includes(p.name));
  const results: FormalResult[] = [];
  for (const proof of proofs) {
    const result = await runProof(proof, options.broken ? "broken" : "design");
    results.push(result);
    if (!options.json) {
      console.log(formatResult(result));
      if (options.broken) console.log(`    broken: ${proof.broken.description}`);
      if (options.trace && result.counterexample) console.log(result.counterexample);
    }
  }
  if (options.json) {
    const summary = results.map(({ log: _log, counterexample, ...rest }) => ({ ...rest, ...(options.trace ? { counterexample } : {}) }));
    console.log(JSON.stringify({ results: summary, ok: results.every(resultAsExpected) }));
  }
  return results.every(resultAsExpected) ? 0 : 1;
}
