/**
 * The JSON record: one per suite × configuration × pattern × size. bench/README.md documents the
 * schema for readers; `validateRecord` is the same schema as code, used by the tests and by
 * `tsmpi bench --check FILE`.
 */
import { FABRICS, PIN_MODES, RCACHE_POLICIES, type FabricKind, type PinMode, type RcachePolicy } from '@tsmpi/mpi';
import { BenchSchemaError } from './errors.js';

export type Suite = 'latency' | 'bw' | 'bibw' | 'allreduce';
export const SUITES: readonly Suite[] = ['latency', 'bw', 'bibw', 'allreduce'];

export interface BenchRecord {
  suite: Suite;
  /** Configuration id, e.g. "pinning-off" (pin-per-op), "pinning-notifier", "pinning-mlock-hooks". */
  config: string;
  /** Configuration label as printed: "pin-per-op", "pinning×notifier", "mlock×hooks". */
  label: string;
  fabric: FabricKind;
  rcache: RcachePolicy;
  pin_mode: PinMode;
  /** Buffer pattern: "reuse", "rotate:N", "churn", "migrate:K". */
  pattern: string;
  /** Cost-model preset the virtual clock ran on ("edr", "hdr", "ndr"). */
  cost: string;
  /** Message size in bytes. */
  size: number;
  /** Timed iterations and warm-up iterations (OSU's loop counts, scaled down for large sizes). */
  iterations: number;
  warmup: number;
  /** Virtual µs per operation: half a round trip (latency), per message (bw, bibw), per call (allreduce). */
  latency_us: number;
  /** Virtual MB/s (10^6 bytes per second = bytes per µs), OSU's definition for the suite. */
  bandwidth_MBps: number;
  /** Deliveries verified byte for byte (timed and warm-up, both ranks). */
  messages: number;
  /** Deliveries with at least one byte that differs from what the sender's memory held at send time. */
  stale: number;
  /** Bytes that differed, summed over the stale deliveries. */
  stale_bytes: number;
  /** Registration-cache lookups that found a valid region / that had to register. */
  hits: number;
  misses: number;
  /** Memory regions registered with the adapter (pin-per-op: one per buffer per message). */
  registrations: number;
  /** Regions invalidated by the cache's source (hooks or notifier events). */
  invalidations: number;
  /** registrations / messages. */
  registrations_per_message: number;
  /** hits / (hits + misses), 0 when there were no lookups. */
  hit_rate: number;
  /** false when the cache is not told of a change this pattern makes (stale deliveries possible). */
  safe: boolean;
  /** Wall-clock milliseconds the cell took in the simulator, and deliveries per wall-clock second. */
  wall_ms: number;
  msgs_per_s: number;
}

/** The file `--json` writes. */
export interface BenchReport {
  schema: 'tsmpi-bench/1';
  created: string;
  command: string;
  host: { node: string; cpus: number; platform: string };
  /** exact: virtual time synchronised, identical run after run; fast: not (absent in files written before it existed). */
  timing?: 'exact' | 'fast';
  records: BenchRecord[];
  /** Jobs that did not finish (a rank raised an error): their cells have no records. */
  failures: { job: string; suite: string; config: string; pattern: string; message: string }[];
}

type FieldKind = 'string' | 'number' | 'integer' | 'boolean';
const FIELDS: Record<keyof BenchRecord, FieldKind> = {
  suite: 'string', config: 'string', label: 'string', fabric: 'string', rcache: 'string', pin_mode: 'string',
  pattern: 'string', cost: 'string', size: 'integer', iterations: 'integer', warmup: 'integer',
  latency_us: 'number', bandwidth_MBps: 'number', messages: 'integer', stale: 'integer', stale_bytes: 'integer',
  hits: 'integer', misses: 'integer', registrations: 'integer', invalidations: 'integer',
  registrations_per_message: 'number', hit_rate: 'number', safe: 'boolean', wall_ms: 'number', msgs_per_s: 'number',
};
const ENUMS: Partial<Record<keyof BenchRecord, readonly string[]>> = {
  suite: SUITES, fabric: FABRICS, rcache: RCACHE_POLICIES, pin_mode: PIN_MODES,
};

export const RECORD_FIELDS = Object.keys(FIELDS) as (keyof BenchRecord)[];

/** Throws BenchSchemaError naming the first field that is missing, mistyped or out of range. */
export function validateRecord(r: unknown, where = 'record'): asserts r is BenchRecord {
  if (typeof r !== 'object' || r === null) throw new BenchSchemaError(`${where} is not an object`);
  const rec = r as Record<string, unknown>;
  for (const [name, kind] of Object.entries(FIELDS) as [keyof BenchRecord, FieldKind][]) {
    const v = rec[name];
    const ok =
      kind === 'string' ? typeof v === 'string' :
      kind === 'boolean' ? typeof v === 'boolean' :
      kind === 'integer' ? Number.isInteger(v) && (v as number) >= 0 :
      typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!ok) throw new BenchSchemaError(`${where}.${name} must be a ${kind === 'string' || kind === 'boolean' ? kind : `non-negative ${kind}`}, got ${JSON.stringify(v)}`);
    const allowed = ENUMS[name];
    if (allowed && !allowed.includes(v as string)) {
      throw new BenchSchemaError(`${where}.${name} is "${String(v)}", expected one of ${allowed.join(', ')}`);
    }
  }
  const extra = Object.keys(rec).filter((k) => !(k in FIELDS));
  if (extra.length > 0) throw new BenchSchemaError(`${where} has fields the schema does not define: ${extra.join(', ')}`);
  if ((rec.stale as number) > (rec.messages as number)) throw new BenchSchemaError(`${where}.stale exceeds messages`);
  if ((rec.hit_rate as number) > 1) throw new BenchSchemaError(`${where}.hit_rate is above 1`);
}

export function validateReport(r: unknown): asserts r is BenchReport {
  if (typeof r !== 'object' || r === null) throw new BenchSchemaError('report is not an object');
  const rep = r as Record<string, unknown>;
  if (rep.schema !== 'tsmpi-bench/1') throw new BenchSchemaError(`report.schema is ${JSON.stringify(rep.schema)}, expected "tsmpi-bench/1"`);
  if (!Array.isArray(rep.records)) throw new BenchSchemaError('report.records must be an array');
  if (rep.timing !== undefined && rep.timing !== 'exact' && rep.timing !== 'fast') {
    throw new BenchSchemaError(`report.timing is ${JSON.stringify(rep.timing)}, expected "exact" or "fast"`);
  }
  if (!Array.isArray(rep.failures)) throw new BenchSchemaError('report.failures must be an array (empty when every job finished)');
  rep.failures.forEach((f, i) => {
    for (const k of ['job', 'suite', 'config', 'pattern', 'message']) {
      if (typeof (f as Record<string, unknown>)?.[k] !== 'string') throw new BenchSchemaError(`failures[${i}].${k} must be a string`);
    }
  });
  rep.records.forEach((rec, i) => validateRecord(rec, `records[${i}]`));
}
