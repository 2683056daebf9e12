// Merges the two producers of the completions we send into the transmit side's one completion
// source: the completer's CplDs (`cpl_*`, answering the SSD's memory reads) and the receive side's
// Unsupported Request completions (`ur_*`, no data, refusing requests a root port does not serve).
//
// Only headers pass through here. The packer reads a payload only for a header with has_data, so
// the CplD payload stream goes from the completer to the transmit side directly and stays with its
// header: the CplD headers keep their order among themselves, and a UR header between two of them
// takes no payload. Whole TLPs are therefore never interleaved.
//
// Policy: the two sources take turns. A grant register names the source whose header may enter;
// after a header from one source goes in, the grant moves to the other if it is waiting, and a
// granted source with nothing to send hands the grant over. So when both wait they alternate and
// neither is starved; a lone source keeps the grant and sends a header every cycle. The grant only
// moves while the granted source's valid is low or in the cycle its header is taken, so the valid
// merged_* shows never falls before its handshake.
//
// No buffer of its own: the granted source's header passes straight to `merged_*` (both sources
// present registered headers, and the transmit side takes `merged_*` into its holding register,
// whose ready is a register), so the only logic on the way is the grant's 2:1 choice. Combinational
// paths, by design: cpl_*/ur_* -> merged_*, merged_ready -> cpl_ready/ur_ready.
import { Module, mux } from "../../hdl/index.ts";
import { completionHeader } from "./tlp-interfaces.ts";

/** The header fields passed through, besides valid and ready. */
const FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;

/**
 * Merges the completer's CplD headers (`cpl_*`) and the receive side's UR completions (`ur_*`)
 * into the one completion source of the transmit side, the two taking turns.
 */
export function tlpCompletionMerge() {
  const m = new Module("tlp_completion_merge");
  m.documentCombinationalPaths("the granted source's header passes to merged_*, and merged_ready back to it (the grant is a register)");
  const cpl = m.port(completionHeader, "slave");
  const ur = m.port(completionHeader, "slave");
  const merged = m.port(completionHeader, "master");

  const grant_ur = m.signal(1);
  const room = merged.signals.ready;
  const ur_fire = ur.signals.valid.and(grant_ur).and(room);
  const cpl_fire = cpl.signals.valid.and(grant_ur.not()).and(room);
  m.If(grant_ur, () => {
    m.If(cpl.signals.valid.and(ur_fire.or(ur.signals.valid.not())), () => m.sync(grant_ur, 0));
  }).Else(() => {
    m.If(ur.signals.valid.and(cpl_fire.or(cpl.signals.valid.not())), () => m.sync(grant_ur, 1));
  });

  for (const field of FIELDS) m.comb(merged.signals[field], mux(grant_ur, ur.signals[field], cpl.signals[field]));
  m.comb(merged.signals.valid, mux(grant_ur, ur.signals.valid, cpl.signals.valid));
  m.comb(ur.signals.ready, grant_ur.and(room));
  m.comb(cpl.signals.ready, grant_ur.not().and(room));
  return m.exposing({ cpl, ur, merged });
}
