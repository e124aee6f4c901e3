import type { AddressSpace } from '@tsmpi/vm';
import type { BackendKind } from '../cost/formulas.js';
import type { RegionAccess } from '../dma/region-access.js';
import type { AdapterState } from '../shared/state.js';
import type { MemoryRegion } from '../types.js';

/*
 * How an adapter's memory regions are backed, as UCX's memory domains are (uct_md_ops_t:
 * mem_reg, mem_dereg, ... and the device's translation). Everything that differs between
 * pinning, mlock and on-demand paging lives behind this interface, one module per backend
 * (pinning.ts, mlock.ts, odp.ts); the registry (index.ts) maps an adapter's kind to its
 * backend and an MR row's M_BACKING code back to it, so the DMA path of any thread finds the
 * backend of a peer's region from the shared row.
 *
 * Page entries: each MR owns `pages` Int32 cells in the adapter's arena (`entries[base + i]` for
 * page i of the region). What a cell holds is the backend's business; `frameOf` reads it.
 */

/** One registration, as the backend's mem_reg / mem_dereg see it. */
export interface BackendRegion {
  space: AddressSpace;
  addr: number;
  length: number;
  /** Address of the page holding `addr`. */
  firstPage: number;
  pages: number;
  /** The arena's Int32 view and the index of the region's first page entry in it. */
  entries: Int32Array;
  base: number;
}

/** Outcome of filling an on-demand MR's page table for a range. */
export type FaultResult = { pages: number; chunks: Set<number> } | 'segv' | 'revoked';

/** A frameOf answer: the entry has no usable frame, a network page fault must fill it first. */
export const NEEDS_FAULT = -1;

export interface MemoryBackend {
  /** 'pin' | 'mlock' | 'odp': the name used in messages. */
  readonly name: string;
  /** The code stored in an MR row's M_BACKING cell. */
  readonly code: number;
  /** Which registration prices apply (cost/formulas.ts). */
  readonly priceAs: BackendKind;
  /** The stats counter that holds this backend's registered pages (pinnedPages, mlockedPages), if any. */
  readonly heldPagesCounter: number | undefined;
  /**
   * Translations come and go after registration (network page faults fill them, the mmu notifier
   * zaps them); the domain subscribes to its address space's notifier and advise() prefetches.
   * false: translations are frozen at registration (a stale one is the point: the stale-registration bug).
   */
  readonly onDemand: boolean;

  /** mem_reg: take what the backend needs of [addr, +length) and fill the page entries. Throws VmError or RegistrationError, holding nothing. */
  register(r: BackendRegion): void;
  /** mem_dereg: release what register took (the row is already REVOKED: no DMA uses the entries). */
  deregister(r: BackendRegion): void;
  /** The frame of a page entry, read under the MR lock, or NEEDS_FAULT (for a write: also a read-only entry). */
  frameOf(entry: number, write: boolean): number;
  /** Network page fault: fill the missing entries of `a`'s range. Never called with an MR lock held. */
  fault(a: RegionAccess, chunkBytes: number, requestAddr: number): FaultResult;
  /** Notifier invalidation of [start, end) on the owner's thread: empty the region's entries there; returns how many. */
  invalidate(state: AdapterState, region: OwnedRegionView, start: number, end: number, pageSize: number): number;
}

/** What invalidate needs to know of the owner's registration. */
export interface OwnedRegionView {
  slot: number;
  mr: MemoryRegion;
  firstPage: number;
}
