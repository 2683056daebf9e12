// Format NVM (admin opcode 80h, NVMe 1.4 §5.23): a low-level format of one namespace or all of them,
// to one of the LBA formats the namespaces offer, with an optional secure erase (SES 1 user-data
// erase, SES 2 cryptographic erase). The command completes when the format is done, after the time
// the timing model gives; meanwhile I/O to a namespace being formatted is aborted with Format In
// Progress. Afterwards every block of a formatted namespace is deallocated and reads as DLFEAT says
// (zeroes); the namespace keeps its size in bytes, so a larger block means fewer blocks.
//
// Scope (NVMe 1.4 Figure 327): NSID FFFFFFFFh, or FNA bit 0 set, formats every namespace; with FNA
// bit 1 set, a secure erase (SES 1 or 2) erases every namespace, though only the addressed one takes
// the new format. Checks follow QEMU 7.2's order where the specification leaves room: the NSID first,
// then the LBA format and protection; QEMU 7.2 ignores SES, the model checks it against FNA.

import { getBits32, type NvmeField } from "../../rtl-src/nvme/nvme-field.ts";
import { AdminCommandField, SecureEraseSetting, SqeField } from "../../rtl-src/nvme/nvme-sqe.ts";
import type { Command, CommandContext } from "./command-context.ts";
import { NamespaceMedia } from "./media.ts";
import type { NvmeStatus } from "./status.ts";
import { Status } from "./status.ts";

const NSID_BROADCAST = 0xffffffff;

/** Why a Format NVM cannot run (its status and the field at fault), or the plan of the format. */
type FormatPlan =
  | { refused: NvmeStatus; field: NvmeField }
  | { refused?: undefined; lbaSize: number; formatted: number[]; erased: number[]; ses: number };

export function formatNvm(c: CommandContext, cmd: Command): void {
  const plan = planFormat(c, cmd);
  if (plan.refused) return c.complete(cmd, plan.refused, 0, { field: plan.field });
  const cycles = plan.erased.reduce((sum, nsid) => sum + formatCycles(c, nsid, plan.ses), 0);
  for (const nsid of plan.erased) c.formatting.add(nsid);
  c.log.add(c.now, "erase", `format of namespace(s) ${plan.erased.join(", ")} (SES ${plan.ses}, ${plan.lbaSize}-byte blocks for ${plan.formatted.join(", ")}) ends in ${cycles} cycles`);
  // Once started the format runs to its end, even if a controller reset drops the command; a
  // sanitize that starts meanwhile aborts it (Sanitize In Progress) and erases everything itself.
  c.scheduler.at(c.now + cycles, () => {
    for (const nsid of plan.erased) {
      c.formatting.delete(nsid);
      if (cmd.completed) continue;
      const old = c.media[nsid - 1];
      const lbaSize = plan.formatted.includes(nsid) ? plan.lbaSize : old.lbaSize;
      const bytes = old.capacityBlocks * old.lbaSize;
      c.media[nsid - 1] = new NamespaceMedia(lbaSize, Math.floor(bytes / lbaSize), c.options.indirectionUnitBytes);
    }
    c.complete(cmd, Status.success);
  });
}

function planFormat(c: CommandContext, cmd: Command): FormatPlan {
  const F = AdminCommandField;
  const { nsid, cdw10 } = cmd.sqe;
  const o = c.options;
  const active = c.media.map((_, i) => i + 1);
  if (nsid !== NSID_BROADCAST && !c.nsidValid(nsid)) return { refused: Status.invalidNamespace, field: SqeField.nsid };
  if (nsid !== NSID_BROADCAST && !c.namespace(nsid)) return { refused: Status.invalidField, field: SqeField.nsid };
  const lbaf = getBits32(cdw10, F.formatLbaFormat);
  if (lbaf >= o.lbaFormats.length) return { refused: Status.invalidFormat, field: F.formatLbaFormat };
  // No LBA format carries metadata, so protection information cannot be enabled.
  if (getBits32(cdw10, F.formatProtectionInfo) !== 0) return { refused: Status.invalidFormat, field: F.formatProtectionInfo };
  const ses = getBits32(cdw10, F.formatSecureErase);
  if (ses > SecureEraseSetting.cryptographicErase) return { refused: Status.invalidField, field: F.formatSecureErase };
  if (ses === SecureEraseSetting.cryptographicErase && !o.formatCryptoErase) return { refused: Status.invalidField, field: F.formatSecureErase };
  const formatted = nsid === NSID_BROADCAST || o.formatAppliesToAllNamespaces ? active : [nsid];
  const erased = ses !== SecureEraseSetting.none && o.secureEraseAppliesToAllNamespaces ? active : formatted;
  if (erased.some((n) => c.formatting.has(n))) return { refused: Status.formatInProgress, field: SqeField.nsid };
  return { lbaSize: o.lbaFormats[lbaf], formatted, erased, ses };
}

/** How long formatting one namespace takes: the erase SES asks for, then deallocating every block. */
function formatCycles(c: CommandContext, nsid: number, ses: number): number {
  const ns = c.media[nsid - 1];
  const t = c.timing;
  const erase = ses === SecureEraseSetting.userDataErase ? t.blockEraseCycles(ns.capacityBlocks * ns.lbaSize) : ses === SecureEraseSetting.cryptographicErase ? t.params.cryptoEraseCycles : 0;
  return erase + t.params.deallocateAllCycles;
}
