import type { MessageCosts } from './ports.js';

/** Virtual µs of a CPU copy of `bytes` at the cost model's memcpy rate: the one formula for local copies. */
export function copyUs(costs: Pick<MessageCosts, 'memcpyGBps'>, bytes: number): number {
  return bytes / (costs.memcpyGBps * 1000);
}
