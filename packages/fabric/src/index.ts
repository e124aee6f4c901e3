// @tsmpi/fabric — the adapter model. The public face; see README.md for the API and semantics.
export { Access, Status, Opcode, statusName, RNR_INFINITE } from './constants.js';
export type { StatusName } from './constants.js';
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
  latencyUs,
  gapPerByteUs,
  rnrDeliveryTime,
  registrationCost,
  deregistrationCost,
  odpFaultCost,
  pagesSpanned,
} from './cost/formulas.js';
export type { TransferOp, TransferTimes, BackendKind } from './cost/formulas.js';
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
  Completion,
  FabricStats,
} from './types.js';
