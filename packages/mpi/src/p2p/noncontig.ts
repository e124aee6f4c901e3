import { UsageError } from '../errors.js';
import type { MessageCosts } from './ports.js';
import { copyUs } from './copy-cost.js';

/**
 * Non-contiguous sends (a derived datatype with gaps): the one rule choosing between packing and a
 * multi-segment RDMA. Either way the receiver gets the typemap's bytes in order.
 *
 *   pack  the sender copies the segments into one run (memcpy rate) and sends that by the path's
 *         own protocol (eager, shm, rendezvous …); a non-contiguous receive is staged and unpacked.
 *   sge   rendezvous over the adapter without copies: the sender registers the span of its data
 *         once and sends its segment list in the RTS; the receiver RDMA-reads each sender segment
 *         straight into its own layout — one work request per sender segment (an RDMA read's remote
 *         side is one range), its local side a scatter/gather list of up to the adapter's maxSge
 *         pieces, split into more work requests beyond that.
 *
 * `--noncontig auto` (the default) takes sge only where it can (over the adapter, at or above the
 * eager threshold — an eager send copies into a bounce slot anyway — with the segment list fitting
 * the RTS's slot) and where it should:
 *   - each work request costs a post's overhead o, so sge must save more copying than that:
 *     segments × o <= SGE_COPY_FACTOR × copy(bytes) (pack copies twice: the sender packs, the
 *     receiver unpacks), i.e. segments of at least o × memcpy / 2 bytes on average (1.5 KB at the
 *     defaults);
 *   - the span it registers (the gaps are pinned too) is at most SGE_MAX_SPAN_RATIO × the data.
 * `--noncontig pack` always packs; `--noncontig sge` takes sge wherever it can.
 */
export type NoncontigMode = 'auto' | 'pack' | 'sge';
export const NONCONTIG_MODES: readonly NoncontigMode[] = ['auto', 'pack', 'sge'];

/** Copies pack makes of the data (pack at the sender, unpack at the receiver). */
export const SGE_COPY_FACTOR = 2;
/** Largest span / data ratio auto registers whole for sge. */
export const SGE_MAX_SPAN_RATIO = 4;
/** Bytes of the RTS per segment of the sender's list (u32 offset in the span, u32 length). */
export const SGE_LIST_ENTRY_BYTES = 8;

export function parseNoncontig(text: string, what = '--noncontig'): NoncontigMode {
  if ((NONCONTIG_MODES as readonly string[]).includes(text)) return text as NoncontigMode;
  const shown = /^TSMPI_/.test(what) ? `${what}=${text}` : `${what} ${text}`;
  throw new UsageError(`${shown}: use auto (the default: pack or scatter/gather RDMA by the rule), pack or sge`);
}

/** What the rule looks at: the message and where it goes. */
export interface NoncontigSend {
  /** the send goes over the adapter by rendezvous (not self, not an intra-node transport, not eager) */
  overAdapterRendezvous: boolean;
  bytes: number;
  segments: number;
  spanBytes: number;
  /** bytes of the RTS's slot left for the segment list */
  listRoom: number;
}

export function noncontigProtocol(s: NoncontigSend, mode: NoncontigMode, costs: Pick<MessageCosts, 'overheadUs' | 'memcpyGBps'>): 'pack' | 'sge' {
  if (mode === 'pack' || !s.overAdapterRendezvous || s.segments * SGE_LIST_ENTRY_BYTES > s.listRoom || s.spanBytes >= 2 ** 32) return 'pack';
  if (mode === 'sge') return 'sge';
  const worthIt = s.segments * costs.overheadUs <= SGE_COPY_FACTOR * copyUs(costs, s.bytes);
  return worthIt && s.spanBytes <= SGE_MAX_SPAN_RATIO * s.bytes ? 'sge' : 'pack';
}
