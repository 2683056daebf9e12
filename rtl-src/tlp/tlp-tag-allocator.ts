// Tags for our own non-posted requests (MRd to the SSD's BAR, configuration requests), with the
// completion timeout (completion-timeout.ts) built in: a tag is handed out once, and comes back
// either when the final completion for it is taken or when it times out. A free tag is always on
// offer, registered, on `allocate_*` (the lowest free one when the offer was made); the requester
// takes it by raising `allocate_ready` while `allocate_valid` is high, and must send the request
// with it.
//
// `completion_*` observe the completion headers the receive side routes to our requesters
// (`completion_valid` high in the cycle a header is taken). A completion ends its request when it
// is the last one: an error status or no data (nothing more will follow), or a Byte Count that
// fits in its own payload (Byte Count counts the bytes still owed including this completion's,
// and a CplD that is not the last ends on an RCB boundary, so it carries fewer bytes than that).
// The tag is free again three cycles after its final completion was seen.
// A completion for a tag that is not outstanding is an Unexpected Completion: it frees nothing
// and raises the sticky `unexpected_completion`. A tag that times out is announced on
// `expired_*` (its owner stops waiting), freed, and raises the sticky `timeout` with the first
// expired tag in `timeout_tag`. Every output is a register.
// For 250 MHz on a 7-series part, each tags-wide search (the next tag to offer, whether a
// completion's tag is outstanding) starts from flip-flops and ends in one, with nothing else on
// its path (see `claimed` and `judged_busy` below).
import { C, Module, type Value, addressBits, bitsFor, cat, mux } from "../../hdl/index.ts";
import { type CompletionTimeoutParams, checkTagCount, tickPeriod, tlpCompletionTimeout } from "./tlp-completion-timeout.ts";
import { receivedCompletion } from "./tlp-interfaces.ts";
import { CPL_STATUS_SC } from "./tlp-constants.ts";
import { lowestSet } from "../lib/lowest-set.ts";

const TAG_FIELD_BITS = receivedCompletion.fields.tag.shape.width;

/**
 * Hands out tags for our non-posted requests, lowest free first, and takes each back when its
 * last completion arrives or its completion timeout expires.
 */
export function tlpTagAllocator(params: CompletionTimeoutParams) {
  const { tags, completionTimeoutCycles } = params;
  checkTagCount(tags);
  tickPeriod(completionTimeoutCycles);
  const tagBits = addressBits(tags);
  const m = new Module(`tlp_tag_allocator_t${tags}_c${completionTimeoutCycles}`);
  m.parameters({ tags, completionTimeoutCycles });
  const allocate_valid = m.output(1);
  const allocate_tag = m.output(TAG_FIELD_BITS);
  const allocate_ready = m.input(1);
  const completion_valid = m.input(1);
  const completion_tag = m.input(TAG_FIELD_BITS);
  const completion_status = m.input(3);
  const completion_has_data = m.input(1);
  const completion_byte_count = m.input(12);
  const completion_lower_address = m.input(7);
  const completion_length_dw = m.input(10);
  m.waiveUnread(completion_lower_address, "only the byte offset in the first DW, bits [1:0], counts the payload's bytes");
  const outstanding = m.output(bitsFor(tags));
  const expired_valid = m.output(1);
  const expired_tag = m.output(TAG_FIELD_BITS);
  const timeout = m.output(1);
  const timeout_tag = m.output(TAG_FIELD_BITS);
  const unexpected_completion = m.output(1);

  const timer = m.instance(tlpCompletionTimeout(params));
  const claimed = Array.from({ length: tags }, (_, i) => m.signal(1, { name: `claimed_${i}` }));
  const offer_valid = m.signal(1);
  const offer_tag = m.signal(tagBits, { resetless: true });
  const count = m.signal(outstanding.width);
  const timed_out = m.signal(1);
  const first_expired = m.signal(tagBits, { resetless: true });
  const unexpected = m.signal(1);

  // What the observed completion says, worked out over two registered stages (its tag is freed in
  // the third): first how many bytes are still owed and how many the payload holds (0 encodes
  // 1024 DW / 4096 bytes in both length fields), then whether the owed bytes fit.
  const payload_bytes = mux(completion_length_dw.eq(0), C(4096, 13), cat(completion_length_dw, C(0, 2)).zext(13));
  const seen_valid = m.signal(1);
  const seen_tag = m.signal(tagBits, { resetless: true });
  const seen_in_range = m.signal(1, { resetless: true });
  const seen_ends = m.signal(1, { resetless: true });
  const seen_owed = m.signal(13, { resetless: true });
  const seen_room = m.signal(13, { resetless: true });
  m.sync(seen_valid, completion_valid);
  m.sync(seen_tag, completion_tag.trunc(tagBits));
  m.sync(seen_in_range, tags === 1 << TAG_FIELD_BITS ? C(1, 1) : completion_tag.lt(tags));
  m.sync(seen_ends, completion_status.ne(CPL_STATUS_SC).or(completion_has_data.not()));
  m.sync(seen_owed, mux(completion_byte_count.eq(0), C(4096, 13), completion_byte_count.zext(13)));
  m.sync(seen_room, payload_bytes.subWrap(completion_lower_address.bits(1, 0).zext(13)));

  const judged_valid = m.signal(1);
  const judged_tag = m.signal(tagBits, { resetless: true });
  const judged_last = m.signal(1, { resetless: true });
  const judged_busy = m.signal(1, { resetless: true });
  m.sync(judged_valid, seen_valid.and(seen_in_range));
  m.sync(judged_tag, seen_tag);
  m.sync(judged_last, seen_ends.or(seen_owed.le(seen_room)));
  const unexpected_tag = seen_valid.and(seen_in_range.not());

  // Free the tag, or flag the completion as unexpected.
  const judged_outstanding = judged_valid.and(judged_busy);
  const cpl_frees = judged_outstanding.and(judged_last);
  const timer_tag = timer.ports.expired_tag;
  const freed = (tag: Value) => cpl_frees.and(judged_tag.eq(tag)).or(timer.ports.expired_valid.and(timer_tag.eq(tag)));
  // The timer only reaps an armed tag, and a tag is armed exactly while it is busy, except when
  // its final completion is freeing it in this very cycle: count that free once.
  const expiry_frees = timer.ports.expired_valid.and(cpl_frees.and(judged_tag.eq(timer_tag)).not());
  const taken = offer_valid.and(allocate_ready);
  const offered = (tag: Value) => offer_valid.and(offer_tag.eq(tag));
  m.If(timer.ports.expired_valid, () => m.assert(selectFlag(claimed, timer_tag).and(offered(timer_tag).not())));

  // A tag is claimed while it is on offer or busy (handed out and neither completed nor expired):
  // one flag per tag, so that the search for the next offer starts from flip-flops. The next
  // offer is the lowest unclaimed tag, taken over when the offer is taken (or when there was
  // none). A tag freed this cycle is offered from the next.
  const candidate = lowestSet(claimed.map((c) => c.not()));
  const reload = offer_valid.not().or(taken);
  m.If(reload, () => {
    m.sync(offer_valid, candidate.found);
    m.sync(offer_tag, candidate.index);
  });
  for (let i = 0; i < tags; i++) {
    m.If(reload.and(candidate.grant[i]), () => m.sync(claimed[i], 1)).Elif(freed(C(i, tagBits)), () => m.sync(claimed[i], 0));
  }
  // Whether the seen tag will be busy (claimed and not on offer) when it is judged: claimed now,
  // not freed now, and not left on offer. Looked up a cycle ahead so that the tags-wide choice is
  // not on the path that frees a tag and counts it.
  const stays_offered = offered(seen_tag).and(allocate_ready.not());
  m.sync(judged_busy, selectFlag(claimed, seen_tag).and(freed(seen_tag).not()).and(stays_offered.not()));

  // One adder for the count: the change this cycle (-2..+1) is worked out first.
  const frees = cpl_frees.zext(2).addWrap(expiry_frees.zext(2));
  const change = mux(taken, C(1, 2).subWrap(frees), C(0, 2).subWrap(frees));
  m.sync(count, count.asSigned().addWrap(change.asSigned().sext(count.width)).asUnsigned());
  m.If(timer.ports.expired_valid, () => m.sync(timed_out, 1));
  m.If(timer.ports.expired_valid.and(timed_out.not()), () => m.sync(first_expired, timer_tag));
  m.If(unexpected_tag.or(judged_valid.and(judged_outstanding.not())), () => m.sync(unexpected, 1));

  m.comb(timer.ports.start_valid, taken);
  m.comb(timer.ports.start_tag, offer_tag);
  m.comb(timer.ports.stop_valid, cpl_frees);
  m.comb(timer.ports.stop_tag, judged_tag);

  m.comb(allocate_valid, offer_valid);
  m.comb(allocate_tag, offer_tag.zext(TAG_FIELD_BITS));
  m.comb(outstanding, count);
  m.comb(expired_valid, timer.ports.expired_valid);
  m.comb(expired_tag, timer_tag.zext(TAG_FIELD_BITS));
  m.comb(timeout, timed_out);
  m.comb(timeout_tag, first_expired.zext(TAG_FIELD_BITS));
  m.comb(unexpected_completion, unexpected);
  return m.exposing({
    allocate_valid,
    allocate_tag,
    allocate_ready,
    completion: {
      valid: completion_valid,
      tag: completion_tag,
      status: completion_status,
      has_data: completion_has_data,
      byte_count: completion_byte_count,
      lower_address: completion_lower_address,
      length_dw: completion_length_dw,
    },
    outstanding,
    expired_valid,
    expired_tag,
    timeout,
    timeout_tag,
    unexpected_completion,
  });
}

/** `flags[index]`, for a run-time index. */
function selectFlag(flags: readonly Value[], index: Value): Value {
  return cat(...[...flags].reverse()).shrBy(index).bit(0);
}

