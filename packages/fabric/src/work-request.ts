import { InvalidArgument } from './errors.js';
import type { Sge } from './types.js';

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
