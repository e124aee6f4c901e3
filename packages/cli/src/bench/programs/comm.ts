/**
 * The part of @tsmpi/mpi's Comm that the benchmark rank program uses, as a structural type, so the
 * suites read as plain MPI code and can be driven by any communicator with these methods.
 */
export interface BenchBuffer {
  readonly addr: number;
  readonly byteLength: number;
  set(data: ArrayLike<number>, offset?: number): void;
  toArray(): Uint8Array;
  subarray(begin: number, end?: number): BenchBuffer;
  free(): void;
}

export interface BenchRequest {
  wait(): unknown;
}

export interface BenchComm {
  readonly rank: number;
  readonly size: number;
  alloc(type: Uint8ArrayConstructor, count: number): BenchBuffer;
  send(buf: BenchBuffer, dest: number, tag?: number): void;
  recv(buf: BenchBuffer, source?: number, tag?: number): unknown;
  isend(buf: BenchBuffer, dest: number, tag?: number): BenchRequest;
  irecv(buf: BenchBuffer, source?: number, tag?: number): BenchRequest;
  barrier(): void;
  allreduce(sbuf: BenchBuffer, rbuf: BenchBuffer, op: unknown): void;
  /** Virtual clock, seconds (MPI_Wtime). */
  wtime(): number;
  readonly space: BenchSpace;
}

/** The address-space calls the patterns make (migrate:K, fork:K). */
export interface BenchSpace {
  readonly pageSize: number;
  migrate(addr: number, length: number): unknown;
  forkPolicy: 'legacy' | 'copy-pinned';
  fork(): { exit(): void };
}

/** Registration counters of one rank, cumulative since the rank started. */
export interface RegistrationCounters {
  hits: number;
  misses: number;
  registrations: number;
  invalidations: number;
  /** Network page faults on this rank's MRs (ODP; always 0 on a pinning adapter). */
  odpFaults: number;
}

export function subtractCounters(after: RegistrationCounters, before: RegistrationCounters): RegistrationCounters {
  return {
    hits: after.hits - before.hits,
    misses: after.misses - before.misses,
    registrations: after.registrations - before.registrations,
    invalidations: after.invalidations - before.invalidations,
    odpFaults: after.odpFaults - before.odpFaults,
  };
}
