/**
 * A futex-style mutex in one Int32 slot of shared memory (Drepper, "Futexes Are Tricky", mutex2):
 * 0 = unlocked, 1 = locked, 2 = locked with waiters. Held only for a few loads and stores
 * (a push or pop of a free stack), so contention is short; waiters sleep in Atomics.wait.
 */
export function lockMutex(cells: Int32Array, index: number): void {
  let c = Atomics.compareExchange(cells, index, 0, 1);
  if (c === 0) return;
  do {
    if (c === 2 || Atomics.compareExchange(cells, index, 1, 2) !== 0) {
      Atomics.wait(cells, index, 2, 5);
    }
    c = Atomics.compareExchange(cells, index, 0, 2);
  } while (c !== 0);
}

export function unlockMutex(cells: Int32Array, index: number): void {
  if (Atomics.sub(cells, index, 1) !== 1) {
    Atomics.store(cells, index, 0);
    Atomics.notify(cells, index, 1);
  }
}
