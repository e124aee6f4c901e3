import { MemlockLimitExceeded, VmError, type AddressSpace } from '@tsmpi/vm';
import { ACCESS_ALL, Access } from '../constants.js';
import { pagesSpanned } from '../cost/formulas.js';
import { FabricError, InvalidArgument, RegistrationError } from '../errors.js';
import { lock, unlock } from '../shared/lock.js';
import type { BackendRegion, MemoryBackend } from '../backends/index.js';
import {
  M_ACCESS, M_BACKING, M_DOMAIN, M_LKEY, M_LOCK, M_PAGE_COUNT, M_PAGES_AT, M_RAND, M_RKEY, M_STATE, MF_ADDR,
  MF_FIRST_PAGE, MF_LENGTH, MR_STRIDE, MRF_STRIDE, MrState,
} from '../shared/layout.js';
import type { AdapterState } from '../shared/state.js';
import { Counter, bump } from '../stats.js';
import type { MemoryRegion } from '../types.js';
import { makeKeys } from './keys.js';
import { claimMrSlot } from './table.js';

/** What the owner thread remembers about its registration (the rest is in the shared row). */
export interface OwnedRegion {
  slot: number;
  mr: MemoryRegion;
  backend: MemoryBackend;
  firstPage: number;
}

/**
 * Register [addr, addr + length) of `space` for `domainId`: claim an MR slot, let the backend
 * take the pages and fill the page entries (mem_reg), publish the row (state VALID last).
 * Throws RegistrationError; on error nothing stays claimed, pinned or locked.
 */
export function registerRegion(state: AdapterState, space: AddressSpace, domainId: number, backend: MemoryBackend,
  addr: number, length: number, access: number): OwnedRegion {
  if (!Number.isSafeInteger(addr) || addr < 0) throw new RegistrationError('EINVAL', addr, length, 'addr must be a non-negative integer address');
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RegistrationError('EINVAL', addr, length, 'length must be a positive integer (verbs refuses empty regions)');
  }
  if (!Number.isInteger(access) || (access & ~ACCESS_ALL) !== 0) {
    throw new RegistrationError('EINVAL', addr, length, `access ${access} has unknown bits; combine Access.LOCAL_WRITE | REMOTE_WRITE | REMOTE_READ | REMOTE_ATOMIC`);
  }
  if ((access & Access.REMOTE_WRITE) !== 0 && (access & Access.LOCAL_WRITE) === 0) {
    throw new RegistrationError('EINVAL', addr, length, 'REMOTE_WRITE requires LOCAL_WRITE (as in ibv_reg_mr)');
  }
  if ((access & Access.REMOTE_ATOMIC) !== 0 && (access & Access.LOCAL_WRITE) === 0) {
    throw new RegistrationError('EINVAL', addr, length, 'REMOTE_ATOMIC requires LOCAL_WRITE (as in ibv_reg_mr)');
  }
  const ps = space.pageSize;
  const pages = pagesSpanned(addr, length, ps);
  const firstPage = Math.floor(addr / ps) * ps;
  let slot: number;
  let pagesAt: number;
  try {
    slot = claimMrSlot(state);
  } catch (e) {
    throw new RegistrationError('ENOMEM', addr, length, (e as Error).message, e);
  }
  try {
    pagesAt = state.arena.alloc(pages * 4, 'an MR page table');
  } catch (e) {
    Atomics.store(state.mrs, slot * MR_STRIDE + M_STATE, MrState.FREE);
    throw new RegistrationError('ENOMEM', addr, length, (e as Error).message, e);
  }
  try {
    backend.register({ space, addr, length, firstPage, pages, entries: state.arena.i32, base: pagesAt * 2 });
  } catch (e) {
    state.arena.free(pagesAt, pages * 4);
    Atomics.store(state.mrs, slot * MR_STRIDE + M_STATE, MrState.FREE);
    if (e instanceof FabricError) throw e;
    throw translateVmError(e, addr, length);
  }
  const row = slot * MR_STRIDE;
  const mrs = state.mrs;
  const keys = makeKeys(slot, mrs[row + M_RAND]!);
  mrs[row + M_DOMAIN] = domainId;
  mrs[row + M_LKEY] = keys.lkey;
  mrs[row + M_RKEY] = keys.rkey;
  mrs[row + M_ACCESS] = access;
  mrs[row + M_PAGES_AT] = pagesAt;
  mrs[row + M_PAGE_COUNT] = pages;
  mrs[row + M_BACKING] = backend.code;
  mrs[row + M_RAND] = keys.rand;
  const f = state.mrsF64;
  f[slot * MRF_STRIDE + MF_ADDR] = addr;
  f[slot * MRF_STRIDE + MF_LENGTH] = length;
  f[slot * MRF_STRIDE + MF_FIRST_PAGE] = firstPage;
  Atomics.store(mrs, row + M_STATE, MrState.VALID);
  const c = state.counters;
  bump(c, domainId, Counter.registrations);
  bump(c, domainId, Counter.registeredBytes, length);
  if (backend.heldPagesCounter !== undefined) bump(c, domainId, backend.heldPagesCounter, pages);
  const mr: MemoryRegion = Object.freeze({ lkey: keys.lkey, rkey: keys.rkey, addr, length, access, pages });
  return { slot, mr, backend, firstPage };
}

function translateVmError(e: unknown, addr: number, length: number): RegistrationError {
  if (e instanceof MemlockLimitExceeded) {
    return new RegistrationError('ENOMEM', addr, length, `${e.message} (pinning registration)`, e);
  }
  if (e instanceof VmError) {
    const code = e.code === 'ENOMEM' && /not fully mapped/.test(e.message) ? 'EFAULT'
      : e.code === 'ENOMEM' || e.code === 'EPERM' ? 'ENOMEM'
      : e.code === 'EINVAL' ? 'EINVAL' : 'EFAULT';
    const hint = code === 'EFAULT' ? '; register only mapped memory (mmap/malloc it first)' : '';
    return new RegistrationError(code, addr, length, `${e.message}${hint}`, e);
  }
  return new RegistrationError('EINVAL', addr, length, String(e), e);
}

/**
 * Revoke and release a registration: the row leaves VALID under the MR lock (a DMA holding it
 * finishes first; none starts after), then the backend releases its pages (mem_dereg) and the
 * slot is freed.
 */
export function deregisterRegion(state: AdapterState, space: AddressSpace, domainId: number, r: OwnedRegion): void {
  const row = r.slot * MR_STRIDE;
  const mrs = state.mrs;
  lock(mrs, row + M_LOCK);
  if (Atomics.load(mrs, row + M_STATE) !== MrState.VALID || mrs[row + M_LKEY] !== r.mr.lkey) {
    unlock(mrs, row + M_LOCK);
    throw new InvalidArgument(`deregister: lkey ${r.mr.lkey} is not a live registration (deregistered twice?)`);
  }
  Atomics.store(mrs, row + M_STATE, MrState.REVOKED);
  unlock(mrs, row + M_LOCK);
  const pages = r.mr.pages;
  const region: BackendRegion = { space, addr: r.mr.addr, length: r.mr.length, firstPage: r.firstPage, pages,
    entries: state.arena.i32, base: mrs[row + M_PAGES_AT]! * 2 };
  r.backend.deregister(region);
  state.arena.free(mrs[row + M_PAGES_AT]!, pages * 4);
  Atomics.store(mrs, row + M_STATE, MrState.FREE);
  const c = state.counters;
  bump(c, domainId, Counter.deregistrations);
  bump(c, domainId, Counter.registeredBytes, -r.mr.length);
  if (r.backend.heldPagesCounter !== undefined) bump(c, domainId, r.backend.heldPagesCounter, -pages);
}
