// The I/O submission queue and the PRP list pages, served with no host RAM (issue 10;
// rtl-src/nvme/io-interfaces.ts has the contract, PROTOCOL_FACTS §E.1, §E.5, §E.8 the formats).
//
// The I/O engine writes two compact tables before it rings the SQ tail doorbell:
//  - a record per slot (`slot_record`): opcode, NSID, SLBA, blocks, transfer bytes, FUA. What the
//    entries need is derived as the record is written (which of PRP1/PRP2 point where, CDW12 with
//    NLB and FUA, the opcode's kind) and kept in a RAM of `slots` words, written straight from the
//    strobe (the engine's registers);
//  - which slot each SQ entry holds (`sq_entry`), in a RAM of `sqEntries` words.
// When the SSD reads the I/O SQ region or the PRP list region, the completer asks for the data of
// each read (`request`: DW address and length, routed here by host_memory_router) and every DW is
// built from the tables as it streams out (`response`, in request order, exactly the DWs asked):
//  - SQ entry e (64 bytes) is slot s = table[e mod sqEntries]'s command: CDW0 opcode and CID = s
//    (FUSE 0, PSDT 0: PRPs); NSID; PRP1 = the slot's data window for read/write, its PRP list page
//    for Dataset Management (the range lives there), 0 otherwise; PRP2 = 0 up to 4 KiB, window +
//    4 KiB up to 8 KiB, else the slot's PRP list page; read/write/write zeroes: SLBA in CDW10-11,
//    NLB (blocks - 1) and FUA in CDW12; Dataset Management: NR 0 (one range), AD 1. Every other
//    bit is zero. Placed by the SQE field tables (rtl-src/nvme/nvme-sqe.ts).
//  - PRP list page of slot s: entry i (8 bytes) is window(s) + (i + 1) x 4 KiB; for a Dataset
//    Management slot the page instead starts with its one range (context attributes 0, length =
//    blocks, starting LBA) and is zero after it. Pages of slots >= `slots` read as zeros.
//
// A pipeline, one 64-bit beat per cycle (two DWs: lane a and lane b = a + 1):
//   request -> hold register -> beat generator -> S1: SQ entry table read -> S2: record read -> response register
// All stages move together when the response register is free or taken, so a stall holds every
// stage (the RAMs' read ports hold their word while not enabled). A request may be taken while
// the previous one still streams (the hold register), so requests follow each other with no gap
// between their beats; the first beat of a request is on `response` four cycles after the request
// handshake when nothing waits ahead of it.
//
// Each lane's DW is a sum of products: every word an entry, a DSM range or a PRP entry can hold,
// gated by a decode of the lane's registered DW index and the record's kind (no multiplexer tree).
// One record lookup per beat: the beat's entry is the entry of lane b's DW. The two lanes of a beat
// lie in different entries only when lane a is DW 15 of an entry, and DW 15 (CDW15) is zero in
// every entry built here (checked at build time), so lane a needs no record of its own. A read
// never crosses a 4 KiB boundary (PCIe), so only the DW index inside the page moves within a
// request; the page number is fixed per request.
//
// Every output is a register or a decode of registers (`request_ready` is the hold register's
// emptiness); no path runs combinationally from an input to an output.
import { C, Module, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { type PlacedField, structureDws } from "../lib/field-dws.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "../lib/stream-payload.ts";
import {
  DATA_WINDOW_BYTES,
  HOST_PAGE_BYTES,
  MAX_SLOTS,
  NvmIoOpcode,
  PRP_LIST_ENTRIES,
  SLOT_BITS,
  SQ_INDEX_BITS,
  slotRecordWrite,
  sqEntryWrite,
} from "../nvme/io-interfaces.ts";
import { DSM_RANGE_BYTES, DsmRangeField, NvmCommandField, PRP_ENTRY_BYTES, PrpEntryField, SQE_BYTES, SqeField } from "../nvme/nvme-sqe.ts";
import { completerDataRequest, payloadStream } from "../tlp/tlp-interfaces.ts";
import { HostMemoryMap } from "./host-memory-map.ts";

export interface IoQueueServerParams {
  /** Slots (commands in flight, CIDs 0..slots-1) the engine uses, 1..MAX_SLOTS: the record RAM's depth. */
  slots: number;
  /** Entries of I/O SQ 1, a power of two up to the SQ region's 1024: the SQ entry table's depth. */
  sqEntries: number;
}

/** Every region lies below 4 GiB: addresses are 32 bits, the high DW of a PRP entry is zero. */
const ADDRESS_BITS = 32;
const log2 = (n: number) => Math.log2(n);
const PAGE_BITS = log2(HOST_PAGE_BYTES);
/** DW index inside a 4 KiB page. */
const PAGE_DW_BITS = PAGE_BITS - 2;
const SQE_DW_BITS = log2(SQE_BYTES / 4);
const SQ_REGION_ENTRIES = HostMemoryMap.ioSq.bytes / SQE_BYTES;
const SQ_PAGES = HostMemoryMap.ioSq.bytes / HOST_PAGE_BYTES;
const PRP_LIST_PAGES = HostMemoryMap.prpLists.bytes / HOST_PAGE_BYTES;
/** The page number inside either region (a request stays in one page). */
const PAGE_NUMBER_BITS = log2(Math.max(SQ_PAGES, PRP_LIST_PAGES));
const WINDOW_BITS = log2(DATA_WINDOW_BYTES);
/** Page numbers inside a window a PRP entry can name: i + 1 for entries i < PRP_LIST_ENTRIES. */
const WINDOW_PAGE_BITS = log2(PRP_LIST_ENTRIES) + 1;

/** The DW of a structure where a field's unit starts. */
const dwOf = (field: { offset: number }) => field.offset / 4;

/** How PRP2 is served, decided from the transfer bytes when the record is written. */
const PRP2_NONE = constant("PRP2_NONE", 0, 2);
const PRP2_SECOND_PAGE = constant("PRP2_SECOND_PAGE", 1, 2);
const PRP2_LIST = constant("PRP2_LIST", 2, 2);

/**
 * The record RAM's word, fields in this order (first at the top). `count` is what the blocks are
 * needed as: CDW12 whole (NLB = blocks - 1, and FUA) for read/write/write zeroes, the range length
 * (blocks) for Dataset Management; subtracting when the record is written keeps the carry chain
 * out of the read path.
 */
/** The opcodes the engine sends (NvmIoOpcode) all fit in the low bits: only those are kept. */
const OPCODE_KEPT_BITS = bitsFor(Math.max(...Object.values(NvmIoOpcode)));
const RECORD_FIELDS = [
  ["opcode", OPCODE_KEPT_BITS],
  ["nsid", 32],
  ["slba", 64],
  ["count", 32],
  /** Read or write: PRP1 is the data window. */
  ["has_data", 1],
  /** Read, write or write zeroes: SLBA, NLB, FUA. */
  ["has_lba", 1],
  /** Dataset Management: PRP1 is the PRP list page, where the range is served. */
  ["is_dsm", 1],
  ["prp2", 2],
] as const;
type RecordField = (typeof RECORD_FIELDS)[number][0];
const RECORD_BITS = RECORD_FIELDS.reduce((sum, [, width]) => sum + width, 0);

function packRecord(values: Record<RecordField, Value>): Value {
  return cat(...RECORD_FIELDS.map(([name, width]) => {
    if (values[name].width !== width) throw new RangeError(`io_queue_server: record field ${name} is ${values[name].width} bits, not ${width}`);
    return values[name];
  }));
}

function unpackRecord(word: Value): Record<RecordField, Value> {
  let top = RECORD_BITS;
  const out = {} as Record<RecordField, Value>;
  for (const [name, width] of RECORD_FIELDS) {
    out[name] = word.bits(top - 1, top - width);
    top -= width;
  }
  return out;
}

function checkParams(p: IoQueueServerParams): void {
  if (!Number.isInteger(p.slots) || p.slots < 1 || p.slots > MAX_SLOTS) throw new RangeError(`io_queue_server: slots ${p.slots} is not an integer in 1..${MAX_SLOTS}`);
  const most = Math.min(SQ_REGION_ENTRIES, 2 ** SQ_INDEX_BITS);
  if (!Number.isInteger(p.sqEntries) || p.sqEntries < 2 || p.sqEntries > most || (p.sqEntries & (p.sqEntries - 1)) !== 0) {
    throw new RangeError(`io_queue_server: sqEntries ${p.sqEntries} is not a power of two in 2..${most}`);
  }
}

/** The map facts the address arithmetic below relies on (it ORs fields instead of adding). */
function checkMap(): void {
  const { ioSq, prpLists, dataWindows } = HostMemoryMap;
  const facts: [boolean, string][] = [
    [Number.isInteger(PAGE_BITS) && Number.isInteger(WINDOW_BITS), "pages and data windows are powers of two"],
    [ioSq.bytes % HOST_PAGE_BYTES === 0 && prpLists.bytes >= MAX_SLOTS * HOST_PAGE_BYTES, "the SQ region is whole pages and the PRP list region has a page per slot"],
    [MAX_SLOTS * DATA_WINDOW_BYTES <= dataWindows.bytes, "the data windows fit their region (base | slot << window bits)"],
    [PRP_LIST_ENTRIES * HOST_PAGE_BYTES < DATA_WINDOW_BYTES, "every page a PRP entry names lies inside its window (window | page << 12)"],
    [2 ** SLOT_BITS >= MAX_SLOTS, "slot numbers fit SLOT_BITS"],
    [DSM_RANGE_BYTES <= SQE_BYTES && PRP_ENTRY_BYTES <= SQE_BYTES, "a DW's place in a DSM range or a PRP entry is in the low bits of its place in an SQ entry"],
  ];
  for (const [holds, what] of facts) if (!holds) throw new Error(`io_queue_server: the host-memory map no longer satisfies "${what}"`);
}

/**
 * Serves the I/O submission queue and the PRP list pages from the I/O engine's slot records and SQ
 * entry table: each DW the SSD reads is built as it streams out, one beat per cycle.
 */
export function ioQueueServer(p: IoQueueServerParams) {
  checkParams(p);
  checkMap();
  const m = new Module(`io_queue_server_s${p.slots}_q${p.sqEntries}`);
  const { ioSq, prpLists, dataWindows } = HostMemoryMap;
  m.parameters({ ...p, ioSq: `0x${ioSq.base.toString(16)}`, prpLists: `0x${prpLists.base.toString(16)}`, dataWindows: `0x${dataWindows.base.toString(16)}`, dataWindowBytes: DATA_WINDOW_BYTES });

  /** A slot's record, written by the engine before the doorbell that publishes the command. */
  const slot_record = m.port(slotRecordWrite, "slave");
  /** SQ entry `index` holds slot `slot`, written before the doorbell. */
  const sq_entry = m.port(sqEntryWrite, "slave");
  /** The completer's data requests for the I/O SQ and PRP list regions (from host_memory_router). */
  const request = m.port(completerDataRequest, "slave");
  const response = m.port(payloadStream, "master");

  const recordDepth = Math.max(p.slots, 2);
  const records = m.memory({ width: RECORD_BITS, depth: recordDepth });
  const recordAddressBits = records.addressWidth;
  const sqIndexBits = log2(p.sqEntries);
  const sq_table = m.memory({ width: recordAddressBits, depth: p.sqEntries });

  // ---- the tables ----
  const r = slot_record.signals;
  const opcodeIs = (name: keyof typeof NvmIoOpcode) => r.opcode.eq(constant(`NVM_OPCODE_${name}`, NvmIoOpcode[name], 8));
  const is_dsm = opcodeIs("DATASET_MANAGEMENT");
  const has_data = opcodeIs("READ").or(opcodeIs("WRITE"));
  const nlb = r.blocks.bits(NvmCommandField.nlb.width - 1, 0).subWrap(1);
  const has_lba = has_data.or(opcodeIs("WRITE_ZEROES"));
  const cdw12 = structureDws(SQE_BYTES, [
    { field: NvmCommandField.nlb, value: nlb },
    { field: NvmCommandField.fua, value: r.fua.and(has_lba) },
  ])[dwOf(SqeField.cdw12)]!;
  const PAGE_BYTES = constant("HOST_PAGE_BYTES", HOST_PAGE_BYTES, r.bytes.width);
  const TWO_PAGES_BYTES = constant("TWO_PAGES_BYTES", 2 * HOST_PAGE_BYTES, r.bytes.width);
  // Written straight from the strobe: its fields are the engine's registers, stable in the strobe
  // cycle, so the derived fields (NLB, PRP2's kind, the opcode's class) are decoded on the way into
  // the record RAM and no copy of the record is registered here.
  records.writePort({
    addr: r.slot.bits(recordAddressBits - 1, 0),
    data: packRecord({
      opcode: r.opcode.bits(OPCODE_KEPT_BITS - 1, 0),
      nsid: r.nsid,
      slba: r.slba,
      count: mux(is_dsm, r.blocks, cdw12),
      has_data,
      has_lba,
      is_dsm,
      prp2: mux(r.bytes.le(PAGE_BYTES), PRP2_NONE, mux(r.bytes.le(TWO_PAGES_BYTES), PRP2_SECOND_PAGE, PRP2_LIST)),
    }),
    en: r.valid,
  });
  const e = sq_entry.signals;
  sq_table.writePort({ addr: e.index.bits(sqIndexBits - 1, 0), data: e.slot.bits(recordAddressBits - 1, 0), en: e.valid });
  if (recordAddressBits < SLOT_BITS) {
    m.waiveUnread(r.slot, `slot numbers are below slots = ${p.slots}: ${recordAddressBits} bits`);
    m.waiveUnread(e.slot, `slot numbers are below slots = ${p.slots}: ${recordAddressBits} bits`);
  }
  if (sqIndexBits < SQ_INDEX_BITS) m.waiveUnread(e.index, `SQ entry indexes are below sqEntries = ${p.sqEntries}`);

  // ---- requests: a hold register in front of the beat generator ----
  const q = request.signals;
  const prpRegionBits = log2(prpLists.bytes);
  const PRP_LISTS_REGION = constant("PRP_LISTS_REGION", prpLists.base / prpLists.bytes, ADDRESS_BITS - prpRegionBits);
  const in_prp = q.address.bits(ADDRESS_BITS - 1, prpRegionBits).eq(PRP_LISTS_REGION);
  const in_page = q.address.bits(PAGE_BITS + PAGE_NUMBER_BITS - 1, PAGE_BITS);
  const in_dw = q.address.bits(PAGE_BITS - 1, 2);
  m.waiveUnread(q.address, "the router sends only addresses in the I/O SQ or PRP list regions: the region bit, the page and the DW in the page are all that matter");

  const lengthBits = q.length_dw.width;
  const hold_valid = m.signal(1);
  const hold_prp = m.signal(1, { resetless: true });
  const hold_page = m.signal(PAGE_NUMBER_BITS, { resetless: true });
  const hold_dw = m.signal(PAGE_DW_BITS, { resetless: true });
  const hold_left = m.signal(lengthBits, { resetless: true });

  // The beat generator: the DW of the next beat's lane a (lane b is the next DW) and the DWs still owed.
  const gen_valid = m.signal(1);
  const gen_prp = m.signal(1, { resetless: true });
  const gen_page = m.signal(PAGE_NUMBER_BITS, { resetless: true });
  const gen_dw_a = m.signal(PAGE_DW_BITS, { resetless: true });
  const gen_left = m.signal(lengthBits, { resetless: true });

  const out_valid = m.signal(1);
  /** Every stage moves: the response register is free, or its beat is taken. */
  const advance = m.signal(1);
  m.comb(advance, out_valid.not().or(response.signals.tready));
  const issue = gen_valid.and(advance);
  /** The next beat is the request's last (gen_left <= 2), kept in a register: with tready it decides when the next request loads. */
  const gen_final = m.signal(1, { resetless: true });
  const gen_free = gen_valid.not().or(issue.and(gen_final));
  const take_input = q.valid.and(hold_valid.not());

  m.If(take_input.and(gen_free.not()), () => {
    m.sync(hold_valid, 1);
    m.sync(hold_prp, in_prp);
    m.sync(hold_page, in_page);
    m.sync(hold_dw, in_dw);
    m.sync(hold_left, q.length_dw);
  }).Elif(gen_free, () => m.sync(hold_valid, 0));
  const src_prp = mux(hold_valid, hold_prp, in_prp);
  const src_page = mux(hold_valid, hold_page, in_page);
  const src_dw = mux(hold_valid, hold_dw, in_dw);
  const src_left = mux(hold_valid, hold_left, q.length_dw);
  const load = gen_free.and(hold_valid.or(q.valid));
  m.If(load, () => {
    m.sync(gen_prp, src_prp);
    m.sync(gen_page, src_page);
    m.sync(gen_dw_a, src_dw);
    m.sync(gen_left, src_left);
    m.sync(gen_final, src_left.le(2));
  }).Elif(issue, () => {
    m.sync(gen_dw_a, gen_dw_a.addWrap(2));
    m.sync(gen_left, gen_left.subWrap(2));
    m.sync(gen_final, gen_left.le(4));
  });
  m.If(load, () => m.sync(gen_valid, 1)).Elif(gen_free, () => m.sync(gen_valid, 0));
  m.comb(q.ready, hold_valid.not());

  // ---- S1: the SQ entry table read (the entry of lane b's DW) ----
  const s1_valid = m.signal(1);
  const s1_prp = m.signal(1, { resetless: true });
  /** The PRP list page's slot (a page past the slots has its low bits here and is flagged below). */
  const s1_page_slot = m.signal(recordAddressBits, { resetless: true });
  const s1_dw_a = m.signal(PAGE_DW_BITS, { resetless: true });
  const s1_has_b = m.signal(1, { resetless: true });
  const s1_last = m.signal(1, { resetless: true });
  const s1_page_slot_ok = m.signal(1, { resetless: true });
  const SLOTS = constant("SLOTS", p.slots, PAGE_NUMBER_BITS + 1);
  const sqEntryOfPage = gen_dw_a.addWrap(1).bits(PAGE_DW_BITS - 1, SQE_DW_BITS);
  const sq_index = cat(gen_page.bits(log2(SQ_PAGES) - 1, 0), sqEntryOfPage).bits(sqIndexBits - 1, 0);
  const sq_slot = sq_table.readPort({ addr: sq_index, en: advance });
  m.If(advance, () => {
    m.sync(s1_valid, gen_valid);
    m.sync(s1_prp, gen_prp);
    m.sync(s1_page_slot, gen_page.bits(recordAddressBits - 1, 0));
    m.sync(s1_dw_a, gen_dw_a);
    m.sync(s1_has_b, gen_left.gt(1));
    m.sync(s1_last, gen_final);
    m.sync(s1_page_slot_ok, gen_page.zext(SLOTS.width).lt(SLOTS));
  });

  // ---- S2: the record read (the SQ entry's slot, or the PRP list page's) ----
  const slot_of_beat = m.signal(recordAddressBits);
  m.comb(slot_of_beat, mux(s1_prp, s1_page_slot, sq_slot.data));
  const record = records.readPort({ addr: slot_of_beat, en: advance });
  /** Lane b's DW (in a beat that has one, it lies in the same page). */
  const s1_dw_b = s1_dw_a.addWrap(1);
  const s2_valid = m.signal(1);
  const s2_prp = m.signal(1, { resetless: true });
  // The DWs' places in their entry (or DSM range, or PRP entry): whether they lie in the page's
  // first range is decided from the whole index on the way in.
  const s2_dw_a = m.signal(SQE_DW_BITS, { resetless: true });
  const s2_dw_b = m.signal(SQE_DW_BITS, { resetless: true });
  const s2_has_b = m.signal(1, { resetless: true });
  const s2_last = m.signal(1, { resetless: true });
  /**
   * i + 1 for the PRP entry whose low DW is in this beat: the even lane is lane a (DW a) or lane b
   * (a + 1), so i = ceil(a / 2) and i + 1 = (a + 3) >> 1.
   */
  const s2_window_page = m.signal(WINDOW_PAGE_BITS, { resetless: true });
  const s2_slot = m.signal(recordAddressBits, { resetless: true });
  /** A PRP list page of a slot past `slots`: zeros. */
  const s2_zero_page = m.signal(1, { resetless: true });
  const rangeDwBits = log2(DSM_RANGE_BYTES / 4);
  /** The lane's DW lies in the page's first DSM range (DW index < 4). */
  const s2_a_in_range = m.signal(1, { resetless: true });
  const s2_b_in_range = m.signal(1, { resetless: true });
  m.If(advance, () => {
    m.sync(s2_valid, s1_valid);
    m.sync(s2_prp, s1_prp);
    m.sync(s2_dw_a, s1_dw_a.bits(SQE_DW_BITS - 1, 0));
    m.sync(s2_dw_b, s1_dw_b.bits(SQE_DW_BITS - 1, 0));
    m.sync(s2_has_b, s1_has_b);
    m.sync(s2_last, s1_last);
    m.sync(s2_window_page, s1_dw_a.zext(PAGE_DW_BITS + 1).addWrap(3).bits(PAGE_DW_BITS, 1));
    m.sync(s2_slot, slot_of_beat);
    m.sync(s2_zero_page, s1_prp.and(s1_page_slot_ok.not()));
    m.sync(s2_a_in_range, s1_dw_a.bits(PAGE_DW_BITS - 1, rangeDwBits).eq(0));
    m.sync(s2_b_in_range, s1_dw_b.bits(PAGE_DW_BITS - 1, rangeDwBits).eq(0));
  });

  // ---- the DWs, from the record ----
  const rec = unpackRecord(record.data);
  const slot = s2_slot.zext(SLOT_BITS);
  const DATA_WINDOWS_BASE = constant("DATA_WINDOWS_BASE", dataWindows.base, ADDRESS_BITS);
  const PRP_LISTS_BASE = constant("PRP_LISTS_BASE", prpLists.base, ADDRESS_BITS);
  const windowAddress = (page: Value) => DATA_WINDOWS_BASE.or(slot.shl(WINDOW_BITS).zext(ADDRESS_BITS)).or(page.shl(PAGE_BITS).zext(ADDRESS_BITS));
  const window_start = m.signal(ADDRESS_BITS);
  const window_second_page = m.signal(ADDRESS_BITS);
  const prp_list_page = m.signal(ADDRESS_BITS);
  m.comb(window_start, windowAddress(C(0, 1)));
  m.comb(window_second_page, windowAddress(C(1, 1)));
  m.comb(prp_list_page, PRP_LISTS_BASE.or(slot.shl(PAGE_BITS).zext(ADDRESS_BITS)));
  const zero32 = C(0, ADDRESS_BITS);
  const prp1 = mux(rec.has_data, window_start, mux(rec.is_dsm, prp_list_page, zero32));
  const prp2 = mux(rec.prp2.eq(PRP2_SECOND_PAGE), window_second_page, mux(rec.prp2.eq(PRP2_LIST), prp_list_page, zero32));
  const lbaOnly = (v: Value) => mux(rec.has_lba, v, C(0, v.width));
  const sqeFields: PlacedField[] = [
    { field: SqeField.opcode, value: rec.opcode.zext(SqeField.opcode.width) },
    { field: SqeField.fuse, value: C(0, SqeField.fuse.width) },
    { field: SqeField.psdt, value: C(0, SqeField.psdt.width) },
    { field: SqeField.cid, value: slot.zext(SqeField.cid.width) },
    { field: SqeField.nsid, value: rec.nsid },
    { field: SqeField.prp1, value: prp1 },
    { field: SqeField.prp2, value: prp2 },
    { field: NvmCommandField.slba, value: lbaOnly(rec.slba) },
    { field: SqeField.cdw12, value: lbaOnly(rec.count) },
    { field: NvmCommandField.dsmRanges, value: C(0, NvmCommandField.dsmRanges.width) },
    { field: NvmCommandField.dsmDeallocate, value: rec.is_dsm },
  ];
  const sqeDws = structureDws(SQE_BYTES, sqeFields);
  if (sqeDws[sqeDws.length - 1] !== undefined) throw new Error("io_queue_server: a field lies in the entry's last DW, which a beat straddling two entries serves as zero");
  const rangeDws = structureDws(DSM_RANGE_BYTES, [
    { field: DsmRangeField.contextAttributes, value: C(0, DsmRangeField.contextAttributes.width) },
    { field: DsmRangeField.length, value: rec.count },
    { field: DsmRangeField.slba, value: rec.slba },
  ]);
  const prp_entry_address = m.signal(ADDRESS_BITS);
  m.comb(prp_entry_address, windowAddress(s2_window_page));
  const prpEntryDws = structureDws(PRP_ENTRY_BYTES, [{ field: PrpEntryField.address, value: prp_entry_address }]);

  // Each lane's DW is an OR of the structures' words, each gated by a decode of the lane's DW index
  // (registered) and the record's kind: a sum of products, no multiplexer tree.
  const gatedOr = (terms: [Value, Value][]) => terms.reduce((acc, [enable, value]) => acc.or(mux(enable, value, zero32)), zero32 as Value);
  const definedDws = (dws: readonly (Value | undefined)[]) => dws.flatMap((value, i) => (value === undefined ? [] : [[i, value] as const]));
  const lane = (dw: Value, in_range: Value, name: string): Value => {
    const in_sqe = s2_prp.not();
    const in_list = s2_prp.and(s2_zero_page.not());
    const in_dsm_range = in_list.and(rec.is_dsm).and(in_range);
    const in_prp_entry = in_list.and(rec.is_dsm.not());
    const value = m.signal(32, { name: `${name}_dw` });
    m.comb(value, gatedOr([
      ...definedDws(sqeDws).map(([i, v]): [Value, Value] => [in_sqe.and(dw.bits(SQE_DW_BITS - 1, 0).eq(i)), v]),
      ...definedDws(rangeDws).map(([i, v]): [Value, Value] => [in_dsm_range.and(dw.bits(rangeDwBits - 1, 0).eq(i)), v]),
      ...definedDws(prpEntryDws).map(([i, v]): [Value, Value] => [in_prp_entry.and(dw.bits(log2(PRP_ENTRY_BYTES / 4) - 1, 0).eq(i)), v]),
    ]));
    return value;
  };
  const lane_a = lane(s2_dw_a, s2_a_in_range, "lane_a");
  const lane_b = lane(s2_dw_b, s2_b_in_range, "lane_b");

  // ---- the response register ----
  const out_data = m.signal(64, { resetless: true });
  const out_keep_low = m.signal(1, { resetless: true });
  const out_last = m.signal(1, { resetless: true });
  m.If(advance, () => {
    m.sync(out_valid, s2_valid);
    m.sync(out_data, cat(mux(s2_has_b, lane_b, zero32), lane_a));
    m.sync(out_keep_low, s2_has_b.not());
    m.sync(out_last, s2_last);
  });
  const rs = response.signals;
  m.comb(rs.tvalid, out_valid);
  m.comb(rs.tdata, out_data);
  m.comb(rs.tkeep, mux(out_keep_low, KEEP_LOW_DW, KEEP_BOTH_DW));
  m.comb(rs.tlast, out_last);

  return m.exposing({ slot_record, sq_entry, request, response });
}
