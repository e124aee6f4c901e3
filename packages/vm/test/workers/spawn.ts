import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const bootstrap = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));
const script = new URL('./vm-worker.ts', import.meta.url).href;

/** Start vm-worker.ts in a worker thread; resolves with the message it posts before exiting. */
export function runWorker<T>(data: Record<string, unknown>): { done: Promise<T>; worker: Worker } {
  const worker = new Worker(bootstrap, { workerData: { ...data, script } });
  const done = new Promise<T>((resolve, reject) => {
    let result: T | undefined;
    worker.on('message', (m: T) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0 || result === undefined) reject(new Error(`worker exited with code ${code} and no result`));
      else resolve(result);
    });
  });
  return { done, worker };
}

/** Longest any wait may take before the test fails naming what it waited for (a hang guard, not a timing assertion). */
const WAIT_MS = 20_000;

/**
 * Block this thread until control[index] is set, at most WAIT_MS; throws saying what it waited
 * for. A worker that died while we wait cannot tell us (its 'exit' event needs this thread), so
 * the deadline is what ends the wait.
 */
export function awaitWord(control: Int32Array, index: number, what: string): void {
  const deadline = Date.now() + WAIT_MS;
  while (Atomics.load(control, index) === 0) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`waited ${WAIT_MS} ms for ${what} (control[${index}] still 0): did the worker die?`);
    Atomics.wait(control, index, 0, Math.min(left, 100));
  }
}

/** Run `body`, then end the worker whatever happened (a wait that threw must not leave it spinning). */
export async function supervised<R>(run: { done: Promise<unknown>; worker: Worker }, body: () => Promise<R>): Promise<R> {
  try {
    return await body();
  } finally {
    run.done.catch(() => undefined); // terminate() makes a pending run reject: it was reported by body already
    await run.worker.terminate();
  }
}
