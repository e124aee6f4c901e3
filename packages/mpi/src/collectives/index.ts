// The collectives of @tsmpi/mpi, as functions over a communicator; Comm's methods delegate here.
export { barrier } from './barrier.js';
export { bcast, BCAST_LONG_BYTES, BCAST_LONG_MIN_RANKS } from './bcast.js';
export { reduce } from './reduce.js';
export { allreduce, ALLREDUCE_LONG_BYTES } from './allreduce.js';
export { gather, GATHER_LINEAR_BYTES } from './gather.js';
export { scatter } from './scatter.js';
export { allgather, ALLGATHER_LONG_BYTES } from './allgather.js';
export { alltoall } from './alltoall.js';
export { gatherv, scatterv, allgatherv, alltoallv } from './vector.js';
export { reduceScatter, reduceScatterBlock } from './reduce-scatter.js';
export { scan, exscan, scanObject, exscanObject } from './scan.js';
export {
  barrierInit, bcastInit, reduceInit, allreduceInit, gatherInit, scatterInit, allgatherInit, alltoallInit,
  gathervInit, scattervInit, allgathervInit, alltoallvInit, reduceScatterInit, reduceScatterBlockInit, scanInit, exscanInit,
} from './persistent.js';
export { ibarrier, ibcast, ireduce, iallreduce, igather, iallgather, ialltoall } from './nonblocking.js';
export {
  bcastObject, gatherObject, scatterObject, allgatherObject, alltoallObject, reduceObject, allreduceObject,
} from './objects.js';
export { SUM, PROD, MIN, MAX, LAND, LOR, LXOR, BAND, BOR, BXOR, MAXLOC, MINLOC } from './ops.js';
export { Op } from './user-op.js';
export { collectiveStats, resetCollectiveStats } from './stats.js';
export { reductionBytes, reduceLocal } from './combine.js';
export { DEFAULT_TUNING, collectiveTuning, setCollectiveTuning } from './tuning.js';

export type { ReduceOp } from './ops.js';
export type { UserFunction } from './user-op.js';
export type { ReduceFn } from './objects.js';
export type { CollectiveStats } from './stats.js';
export type { CollectiveTuning } from './tuning.js';
export type { CollectiveComm, LocalWork, PointToPoint } from './types.js';
export type { Counts } from './vector-args.js';
