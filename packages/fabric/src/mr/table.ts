import { Access } from '../constants.js';
import {
  H_MR_HINT, M_ACCESS, M_DOMAIN, M_LKEY, M_RKEY, M_STATE, MF_ADDR, MF_LENGTH, MR_STRIDE, MRF_STRIDE, MrState,
} from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';
import { keySlot } from './keys.js';

/** Why a key was refused; every one becomes an error completion, never a silent success. */
export type KeyRefusal = 'unknown' | 'revoked' | 'foreign' | 'range' | 'access';

export function claimMrSlot(state: AdapterState): number {
  return state.claimRow(state.mrs, MR_STRIDE, state.limits.maxMemoryRegions, MrState.SETUP, H_MR_HINT,
    'memory-region', 'maxMemoryRegions');
}

/**
 * Check a key presented for [addr, addr + length) by `domainId` (the local domain for an lkey;
 * the connected peer's domain for an rkey) with the access bits `need`. Returns the MR slot, or
 * why it was refused. Lock-free: the DMA re-checks state and key under the MR lock.
 */
export function checkKey(
  state: AdapterState,
  key: number,
  which: 'lkey' | 'rkey',
  domainId: number,
  addr: number,
  length: number,
  need: number,
): number | KeyRefusal {
  const slot = keySlot(key);
  if (!Number.isInteger(key) || slot < 1 || slot > state.limits.maxMemoryRegions) return 'unknown';
  const row = slot * MR_STRIDE;
  const mrs = state.mrs;
  const st = Atomics.load(mrs, row + M_STATE);
  if (mrs[row + (which === 'lkey' ? M_LKEY : M_RKEY)] !== key) return st === MrState.VALID ? 'unknown' : 'revoked';
  if (st !== MrState.VALID) return 'revoked';
  if (mrs[row + M_DOMAIN] !== domainId) return 'foreign';
  const f = state.mrsF64;
  const start = f[slot * MRF_STRIDE + MF_ADDR]!;
  if (!(addr >= start && addr + length <= start + f[slot * MRF_STRIDE + MF_LENGTH]!)) return 'range';
  if ((mrs[row + M_ACCESS]! & need) !== need) return 'access';
  return slot;
}

/** Still the same live registration (checked again under the MR lock before touching memory). */
export function stillValid(state: AdapterState, slot: number, key: number, which: 'lkey' | 'rkey'): boolean {
  const row = slot * MR_STRIDE;
  return Atomics.load(state.mrs, row + M_STATE) === MrState.VALID &&
    state.mrs[row + (which === 'lkey' ? M_LKEY : M_RKEY)] === key;
}

export const NEED_NONE = 0;
export const NEED_LOCAL_WRITE = Access.LOCAL_WRITE;
export const NEED_REMOTE_WRITE = Access.REMOTE_WRITE;
export const NEED_REMOTE_READ = Access.REMOTE_READ;
export const NEED_REMOTE_ATOMIC = Access.REMOTE_ATOMIC;
