// @tsmpi/fabric — the adapter model. The public face; see README.md for the API and semantics.
export { Access, Status, Opcode, statusName, RNR_INFINITE } from './constants.js';
export type { StatusName } from './constants.js';
export { ADAPTER_KINDS, PIN_MODES } from './kinds.js';
export {
  FabricError,
  InvalidArgument,
  RegistrationError,
  AdapterTableFull,
  NotConnected,
  CompletionQueueOverrun,
  QueueFull,
} from './errors.js';
export type { FabricErrorCode } from './errors.js';
export { VirtualClock } from './clock.js';
export type { VirtualClockHandle } from './clock.js';
export { presets, edr, hdr, ndr } from './cost/defaults.js';
export type { PresetName } from './cost/defaults.js';
export { costModel, loadCostModel } from './cost/load.js';
export type { CostModel, CostField } from './cost/model.js';
export {
  transferTimes,
  IDLE_PORTS,
  latencyUs,
  gapPerByteUs,
  rnrDeliveryTime,
  registrationCost,
  deregistrationCost,
  odpFaultCost,
  pagesSpanned,
} from './cost/formulas.js';
export type { TransferOp, TransferTimes, LinkPorts, BackendKind } from './cost/formulas.js';
export type {
  AdapterKind,
  PinMode,
  AdapterLimits,
  MemoryRegion,
  QpAddress,
  Sge,
  RecvWorkRequest,
  SendWorkRequest,
  RdmaWorkRequest,
  AtomicWorkRequest,
  Completion,
  FabricStats,
} from './types.js';
export { Adapter, createAdapter } from './adapter.js';
export type { CreateAdapterOptions } from './adapter.js';
export type { AdapterHandle } from './shared/state.js';
export type { PortStats, PortDirectionStats } from './shared/port.js';
export { ProtectionDomain } from './domain.js';
export { ReceiveQueue } from './queues/receive-queue.js';
export { QueuePair } from './queue-pair.js';
export type { QueuePairOptions, QpStateName } from './queue-pair.js';
export type { QpFailure } from './qp-error.js';
export type { RetryBudget } from './link-down.js';
export { OnDemandConnections } from './connect-on-demand.js';
export type { ListenAddress, ListenResolver } from './connect-on-demand.js';
export { CompletionQueue, flushDoorbells, holdDoorbells, releaseDoorbells } from './queues/completion-queue.js';
export { InProcessWire } from './wire.js';
export type { Wire } from './wire.js';
export { IntranodeError } from './errors.js';
export { Intranode, IntranodeEndpoint, createIntranode, shmWatermarkReader } from './intranode/intranode.js';
export type { CreateIntranodeOptions } from './intranode/intranode.js';
export { Cma, IOV_MAX } from './intranode/cma.js';
export { Xpmem } from './intranode/xpmem.js';
export { Attachment } from './intranode/attachment.js';
export { XpmemAttachCache } from './intranode/attach-cache.js';
export type { AttachCacheOptions, AttachedRange } from './intranode/attach-cache.js';
export { shmCopyUs, cmaCallCost, xpmemCopyUs, xpmemAttachCost, xpmemFaultCost } from './intranode/pricing.js';
export { DEFAULT_INTRANODE_LIMITS } from './intranode/types.js';
export type { Iovec, IntranodePeer, IntranodeLimits, IntranodeStats, XpmemPerm, XpmemSegment } from './intranode/types.js';
export type { IntranodeHandle } from './intranode/node-state.js';
export { NetworkWire } from './net/network-wire.js';
export type { ListenOptions, PeerAddress, NetworkWireHandle } from './net/types.js';
export { FrameOrder, RELAYED, type WireSequencer } from './net/sequencer.js';
export { NetworkError } from './errors.js';
