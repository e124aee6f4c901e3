/*
 * The shared header of an address space (Int32Array over its own SharedArrayBuffer):
 *   SEQ            invalidation sequence: odd while the owner changes mappings (owner writes)
 *   EXITED         1 after exit() (owner writes)
 *   FAULTS         demand faults that filled a page, by any thread (atomic add)
 *   REMOTE_FAULTS  of those, faults taken by another thread
 *   SWAP_INS       faults that brought a page back from swap
 *   LOST_RACES     faults that lost the compare-and-swap to another thread and retried
 *   COW_FAULTS     write faults on copy-on-write pages, by any thread (cow.ts)
 *   COW_COPIES     of those, the ones that copied the page to a new frame (the rest reused it)
 *   COW_LOCK       futex: a fork of this space and another thread's copy-on-write break exclude each other
 */
export const H_SEQ = 0;
export const H_EXITED = 1;
export const H_FAULTS = 2;
export const H_REMOTE_FAULTS = 3;
export const H_SWAP_INS = 4;
export const H_LOST_RACES = 5;
export const H_COW_FAULTS = 6;
export const H_COW_COPIES = 7;
export const H_COW_LOCK = 8;
export const HEADER_CELLS = 16;
