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
