/**
 * A mutex in one Int32 cell of shared memory (0 free, 1 held, 2 held with waiters), the
 * futex-based lock of Drepper's "Futexes are tricky". Held only for short critical sections:
 * a ring update, or one DMA copy against a memory region.
 */
export function lock(cells: Int32Array, i: number): void {
  let c = Atomics.compareExchange(cells, i, 0, 1);
  if (c === 0) return;
  for (let spin = 0; spin < 100; spin++) {
    c = Atomics.compareExchange(cells, i, 0, 1);
    if (c === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(cells, i, 2);
  while (c !== 0) {
    Atomics.wait(cells, i, 2, 50);
    c = Atomics.exchange(cells, i, 2);
  }
}

export function unlock(cells: Int32Array, i: number): void {
  if (Atomics.sub(cells, i, 1) !== 1) {
    Atomics.store(cells, i, 0);
    Atomics.notify(cells, i, 1);
  }
}
