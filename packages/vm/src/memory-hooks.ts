import type { Syscall } from './mmu-notifier.js';

/**
 * The library-level view of memory changes (Open MPI memory/patcher, UCX ucm): listeners fire
 * when the program (or its allocator) calls munmap, mremap, mmap FIXED, madvise or shrinks brk,
 * before the call acts, with the range the caller named. They never fire for kernel-initiated
 * changes (migrate, reclaim): an interception library cannot see those.
 */
export interface MemoryHookEvent {
  call: Syscall;
  start: number;
  end: number;
}

export type MemoryHookListener = (e: MemoryHookEvent) => void;

export class MemoryHooks {
  private listeners: MemoryHookListener[] = [];
  /** events delivered (one per call with at least one listener) */
  fired = 0;

  on(l: MemoryHookListener): () => void {
    this.listeners = [...this.listeners, l];
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  /** @internal */
  fire(call: Syscall, start: number, end: number): void {
    if (this.listeners.length === 0) return;
    this.fired++;
    const e: MemoryHookEvent = { call, start, end };
    for (const l of this.listeners) l(e);
  }
}
