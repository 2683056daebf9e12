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
// the queue sees never falls before its handshake.
//
// The headers enter a two-word FIFO whose readies and outputs are registers; each source's ready
// is the queue's registered ready ANDed with the grant register: no combinational path from any
// input to any output.
import { Module, cat, mux } from "../../hdl/index.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { completionHeader } from "./tlp-interfaces.ts";

/** The header fields carried through the queue, most significant first. */
const FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;
const QUEUE_DEPTH = 2;

/**
 * Merges the completer's CplD headers (`cpl_*`) and the receive side's UR completions (`ur_*`)
 * into the one completion source of the transmit side, the two taking turns.
 */
export function tlpCompletionMerge() {
  const m = new Module("tlp_completion_merge");
  m.parameters({ queueDepth: QUEUE_DEPTH });
  const cpl = m.port(completionHeader, "slave");
  const ur = m.port(completionHeader, "slave");
  const merged = m.port(completionHeader, "master");

  const width = FIELDS.reduce((sum, f) => sum + completionHeader.fields[f].shape.width, 0);
  const queue = m.instance(syncFifo({ width, depth: QUEUE_DEPTH }));

  const grant_ur = m.signal(1);
  const room = queue.ports.in.signals.ready;
  const ur_fire = ur.signals.valid.and(grant_ur).and(room);
  const cpl_fire = cpl.signals.valid.and(grant_ur.not()).and(room);
  m.If(grant_ur, () => {
    m.If(cpl.signals.valid.and(ur_fire.or(ur.signals.valid.not())), () => m.sync(grant_ur, 0));
  }).Else(() => {
    m.If(ur.signals.valid.and(cpl_fire.or(cpl.signals.valid.not())), () => m.sync(grant_ur, 1));
  });

  m.comb(queue.ports.in.signals.data, mux(grant_ur, cat(...FIELDS.map((f) => ur.signals[f])), cat(...FIELDS.map((f) => cpl.signals[f]))));
  m.comb(queue.ports.in.signals.valid, mux(grant_ur, ur.signals.valid, cpl.signals.valid));
  m.comb(ur.signals.ready, grant_ur.and(room));
  m.comb(cpl.signals.ready, grant_ur.not().and(room));

  let lsb = width;
  for (const field of FIELDS) {
    const fieldWidth = completionHeader.fields[field].shape.width;
    lsb -= fieldWidth;
    m.comb(merged.signals[field], queue.ports.out.signals.data.bits(lsb + fieldWidth - 1, lsb));
  }
  m.comb(merged.signals.valid, queue.ports.out.signals.valid);
  m.comb(queue.ports.out.signals.ready, merged.signals.ready);
  return m.exposing({ cpl, ur, merged });
}
