// @tsmpi/mpi — the public face: the program API (init, Comm, buffers, requests), the launcher's
// embedding API (runJob) and the options `tsmpi run` shares with it.
export { ANY_SOURCE, ANY_TAG, PROC_NULL, UNDEFINED, ROOT, COMM_TYPE_SHARED, IDENT, CONGRUENT, SIMILAR, UNEQUAL, IN_PLACE } from './constants.js';
export type { InPlace } from './constants.js';
export { init, inRank, setResult } from './rank/context.js';
export { Comm, Message } from './comm.js';
export { Intercomm } from './comm/intercomm.js';
export { Group, GROUP_EMPTY } from './group.js';
export type { RankRange } from './group.js';
export { MAX_OBJECT_NAME } from './comm/lifecycle.js';
export { CartComm, cartCreate } from './topology/cart.js';
export { computeDims } from './topology/dims.js';
export { TypedBuffer } from './typed-buffer.js';
export { Win } from './rma/window.js';
export { REPLACE, NO_OP } from './rma/ops.js';
export { RmaSyncError, RmaRangeError, RmaAttachError } from './rma/errors.js';
export type { WindowKind } from './rma/window.js';
export type { LockType } from './rma/lock-word.js';
export { Request } from './request.js';
export { BSEND_OVERHEAD } from './p2p/buffered.js';
export { getCount } from './status.js';
export {
  Datatype, INT8, UINT8, INT16, UINT16, INT32, UINT32, FLOAT32, FLOAT64, BIGINT64, BIGUINT64, BYTE, getElements,
} from './datatype/index.js';
export type { BufferSpec, ArrayOrder } from './datatype/index.js';
export {
  SUM, PROD, MIN, MAX, LAND, LOR, LXOR, BAND, BOR, BXOR, MAXLOC, MINLOC, Op, collectiveStats, resetCollectiveStats, reductionBytes,
  DEFAULT_TUNING, collectiveTuning, setCollectiveTuning,
  BCAST_LONG_BYTES, BCAST_LONG_MIN_RANKS, ALLREDUCE_LONG_BYTES, GATHER_LINEAR_BYTES, ALLGATHER_LONG_BYTES,
} from './collectives/index.js';
export { copyUs } from './p2p/copy-cost.js';
export {
  MpiError, InvalidRank, InvalidTag, InvalidBuffer, InvalidType, InvalidArgument, TruncationError, InvalidObjectMessage, RequestError,
  ErrorInStatus, NotInRank, JobAborted, TransferError, ConnectionFailed, DeadlockError, RankFailed, UsageError, MemlockExhausted, PmiError, WireUpError, TAG_UB,
  USAGE_EXIT_CODE,
} from './errors.js';
export { InvalidGroup, InvalidComm } from './errors.js';
export { runJob, DEADLOCK_EXIT_CODE } from './launcher/job.js';
export { toChromeTrace, writeTrace, pairMessages, parseTraceClock, RANK_END, TRACE_CLOCKS } from './trace/index.js';
export type { ChromeTrace, RankTrace, TraceEvent, TraceClock, TraceCategory, MessageEnd, Located, JobTraceOption, JobTraceReport } from './trace/index.js';
// Nodes as OS processes: one node of a job started by mpiexec / srun / --procs, and the --procs spawner.
export { runNode } from './launcher/procs/node.js';
export { spawnNodes } from './launcher/procs/spawn.js';
export { runProcsJob } from './launcher/procs/embedded.js';
export { connectPmi, underProcessManager } from './launcher/pmi/client.js';
export {
  DEFAULT_OPTIONS, FABRICS, RCACHE_POLICIES, PIN_MODES, parseBytes, parseFabric, parseRcache, parseIntra, parsePinMode, parsePositiveInt, parseTiming, TIMING_KINDS, optionsFromEnv, parseRndv,
  resolveOptions,
} from './options.js';
export { checkHostCapacity, OPTION_VARIABLES } from './option-checks.js';
export { parseInject } from './inject.js';
export { parseNoncontig, NONCONTIG_MODES, SGE_COPY_FACTOR, SGE_MAX_SPAN_RATIO } from './p2p/noncontig.js';
export type { NoncontigMode } from './p2p/noncontig.js';
export type { InjectSpec } from './inject.js';
export type { OptionLabels, OptionKey } from './option-checks.js';
export { sumStats } from './stats.js';
export { parseCompute, formatCompute } from './compute.js';
export { nodeOfRank } from './launcher/placement.js';
export { kCollective } from './symbols.js';

export type { Status } from './status.js';
export type { TypedArray, TypedArrayCtor } from './typed-buffer.js';
export type { ReduceOp, ReduceFn, UserFunction, CollectiveStats, CollectiveTuning } from './collectives/index.js';
export type { MpiErrorCode, RequestFailure } from './errors.js';
export type { RunJobOptions, JobResult, RankResult, RankOutcome, JobFailure } from './launcher/job.js';
export type { RunNodeOptions, NodeJobResult } from './launcher/procs/node.js';
export type { SpawnNodesOptions } from './launcher/procs/spawn.js';
export type { PmiClient, PmiVersion } from './launcher/pmi/client.js';
export type { JobOptions, FabricKind, RcachePolicy, PinMode, TimingKind } from './options.js';
export { INTRA_KINDS } from './options.js';
export type { IntraKind } from './options.js';
export type { RankStats, MessageCounters, JobTotals } from './stats.js';
export type { ComputeMode, TimeSplit } from './compute.js';
