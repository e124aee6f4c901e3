/**
 * Page-table entry encoding. One Int32 per virtual page of an address space's VA window, in a
 * SharedArrayBuffer, so another thread can translate and demand-fault without seeing the VMAs.
 *
 *   bit  31 .. 6          5      4        3 .. 2      1 .. 0
 *        frame or slot    cow    locked   state       prot (Prot.READ | Prot.WRITE)
 *
 * state NONE        no VMA covers the page (entry is 0)
 *       NOT_PRESENT a VMA covers it; nothing is mapped yet (first touch faults in a zeroed frame)
 *       PRESENT     mapped to frame `index`
 *       SWAPPED     contents are in swap slot `index` of the node's swap area
 * locked: the page's VMA is mlock()ed (reclaim refuses it; migration still moves it).
 * cow:    PRESENT and write-protected by fork(): the frame may be shared with another address
 *         space. prot still says what the VMA allows, so a write the VMA allows takes the
 *         copy-on-write fault (cow.ts) instead of the fast path; reads use the frame as it is.
 *
 * Who writes entries: the owner thread changes every field (it holds the VMAs); another thread
 * only ever does NOT_PRESENT → PRESENT, SWAPPED → PRESENT and PRESENT+cow → PRESENT (a copy-on-
 * write break, cow.ts) by compare-and-swap. The owner therefore changes entries with atomic
 * read-modify-write (exchange / CAS) wherever a frame could be lost to such a race, and bumps the
 * invalidation sequence around every change.
 */
export const PteState = { NONE: 0, NOT_PRESENT: 1, PRESENT: 2, SWAPPED: 3 } as const;
export type PteStateValue = (typeof PteState)[keyof typeof PteState];

const PROT_MASK = 0b11;
const STATE_SHIFT = 2;
const STATE_MASK = 0b11 << STATE_SHIFT;
const LOCKED_BIT = 1 << 4;
const COW_BIT = 1 << 5;
const INDEX_SHIFT = 6;
/** Frames and swap slots must fit the index field without touching the sign bit. */
export const MAX_PTE_INDEX = (1 << 25) - 1;

export const pteProt = (e: number): number => e & PROT_MASK;
export const pteState = (e: number): number => (e & STATE_MASK) >>> STATE_SHIFT;
export const pteLocked = (e: number): boolean => (e & LOCKED_BIT) !== 0;
export const pteCow = (e: number): boolean => (e & COW_BIT) !== 0;
export const pteIndex = (e: number): number => e >>> INDEX_SHIFT;

export function makePte(state: number, prot: number, locked: boolean, index = 0): number {
  return (index << INDEX_SHIFT) | (locked ? LOCKED_BIT : 0) | (state << STATE_SHIFT) | (prot & PROT_MASK);
}

/** Same entry with a new state and index; protection and lock bits kept, cow cleared (the contents are new or private). */
export function withState(e: number, state: number, index = 0): number {
  return (index << INDEX_SHIFT) | (e & (LOCKED_BIT | PROT_MASK)) | (state << STATE_SHIFT);
}

export function withProt(e: number, prot: number): number {
  return (e & ~PROT_MASK) | (prot & PROT_MASK);
}

export function withLocked(e: number, locked: boolean): number {
  return locked ? e | LOCKED_BIT : e & ~LOCKED_BIT;
}

export function withCow(e: number, cow: boolean): number {
  return cow ? e | COW_BIT : e & ~COW_BIT;
}
