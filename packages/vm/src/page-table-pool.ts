/**
 * Page tables of exited address spaces that no other thread ever saw, kept for this thread's next
 * address space. A page table is a SharedArrayBuffer of 4 bytes per page of the address window
 * (2 MiB for the default 2 GiB): a program that forks every few iterations made hundreds of them,
 * which V8 frees only at a full collection it has no reason to run; glibc then serves each new one
 * from its heap (its mmap threshold rises after the first large free) and clears it, so every one
 * became resident. A study's fork cells reached 5 GB that way. Reusing the table keeps one.
 */
const KEPT_PER_SIZE = 4;
const kept = new Map<number, SharedArrayBuffer[]>();

export function takePageTable(bytes: number): SharedArrayBuffer {
  return kept.get(bytes)?.pop() ?? new SharedArrayBuffer(bytes);
}

/** The table of an exited space nothing else refers to (exit() left every entry 0), kept if there is room. */
export function keepPageTable(table: SharedArrayBuffer): void {
  let list = kept.get(table.byteLength);
  if (list === undefined) kept.set(table.byteLength, (list = []));
  if (list.length >= KEPT_PER_SIZE) return;
  list.push(table);
}
