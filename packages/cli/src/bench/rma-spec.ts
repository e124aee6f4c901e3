/** What `tsmpi bench rma` asks of its rank program (rma-program.ts) and what each cell reports. */
export const RMA_SUITES = ['put_latency', 'get_latency', 'put_bw', 'get_bw', 'acc_latency', 'fop_latency', 'cas_latency', 'dynamic'] as const;
export type RmaSuite = (typeof RMA_SUITES)[number];
export type RmaSync = 'fence' | 'lock';

export interface RmaSpec {
  suites: RmaSuite[];
  syncs: RmaSync[];
  sizes: number[];
  iterations: number;
  /** puts or gets in flight per synchronisation in the bw tests (OSU's window size) */
  window: number;
}

export interface RmaCellResult {
  suite: RmaSuite;
  sync: RmaSync;
  size: number;
  iterations: number;
  /** virtual µs at the origin */
  elapsedUs: number;
  /** wrong bytes seen (at the target for puts and accumulates, at the origin for gets and fetches) */
  staleBytes: number;
}
