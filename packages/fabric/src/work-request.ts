import { InvalidArgument } from './errors.js';
import type { CostModel } from './cost/model.js';
import type { RdmaWorkRequest, Sge } from './types.js';

/** Post-time argument checks: what ibv_post_* would refuse with EINVAL. */
export function checkWrId(wrId: unknown, what: string): asserts wrId is number {
  if (typeof wrId !== 'number' || !Number.isSafeInteger(wrId) || wrId < 0) {
    throw new InvalidArgument(`${what}: wrId must be a safe integer >= 0, got ${String(wrId)}`);
  }
}

export function checkSge(sge: Sge | undefined, what: string): asserts sge is Sge {
  if (sge === null || typeof sge !== 'object') throw new InvalidArgument(`${what}: sge { lkey, addr, length } is required`);
  if (!Number.isSafeInteger(sge.length) || sge.length < 0) {
    throw new InvalidArgument(`${what}: sge.length must be an integer >= 0, got ${sge.length}`);
  }
  if (!Number.isSafeInteger(sge.addr) || sge.addr < 0) throw new InvalidArgument(`${what}: sge.addr must be an integer >= 0, got ${sge.addr}`);
  if (!Number.isInteger(sge.lkey) && sge.length > 0) throw new InvalidArgument(`${what}: sge.lkey must be an integer, got ${sge.lkey}`);
}

export function checkImm(imm: number | undefined, what: string): number {
  if (imm === undefined) return -1;
  if (!Number.isInteger(imm) || imm < 0 || imm > 0xffffffff) {
    throw new InvalidArgument(`${what}: immData must be a 32-bit unsigned integer, got ${imm}`);
  }
  return imm;
}

export function checkRemote(remoteAddr: number, rkey: number, what: string): void {
  if (!Number.isSafeInteger(remoteAddr) || remoteAddr < 0) {
    throw new InvalidArgument(`${what}: remoteAddr must be an integer >= 0, got ${remoteAddr}`);
  }
  if (!Number.isInteger(rkey)) throw new InvalidArgument(`${what}: rkey must be an integer, got ${rkey}`);
}

/** The local side of an RDMA work request: its scatter/gather list, or its one sge (ibv_post_send refuses num_sge > max_sge). */
export function checkSgl(wr: RdmaWorkRequest, maxSge: number, what: string): readonly Sge[] {
  if (wr.sgl === undefined) return [wr.sge];
  if (!Array.isArray(wr.sgl) || wr.sgl.length === 0) throw new InvalidArgument(`${what}: sgl must be a non-empty array of { lkey, addr, length }`);
  if (wr.sgl.length > maxSge) {
    throw new InvalidArgument(`${what}: ${wr.sgl.length} scatter/gather elements, more than the adapter's maxSge (${maxSge}); split the transfer into several work requests`);
  }
  wr.sgl.forEach((e, i) => checkSge(e, `${what} sgl[${i}]`));
  return wr.sgl;
}

/** What a work request's scatter/gather elements past the first add to its transfer, µs. */
export function sgeCostUs(cost: Pick<CostModel, 'sgeUs'>, elements: number): number {
  return elements > 1 ? (elements - 1) * cost.sgeUs : 0;
}
