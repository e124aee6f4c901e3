export { RegistrationCache } from './cache.js';
export { createRegistrationPolicy } from './policy.js';
export { POLICIES, CHANGE_ORIGINS, SOURCE_HEARS, policyHears } from './hears.js';
export { IntervalIndex } from './interval-index.js';
export { DEFAULT_COST, isOutOfLockableMemory } from './ops.js';
export { noneSource } from './sources/none.js';
export { hooksSource } from './sources/hooks.js';
export { notifierSource } from './sources/notifier.js';
export {
  RcacheError,
  InvalidArgument,
  OutOfLockableMemory,
  RegistrationFailed,
  RegistrationNotHeld,
  CacheClosed,
} from './errors.js';

export type { RegistrationCacheOptions, CloseReport, ForkNotice } from './cache.js';
export type { RegistrationProvider, RegistrationPolicyOptions } from './policy.js';
export type { Interval } from './interval-index.js';
export type { RegistrationOps, RcacheCost } from './ops.js';
export type { Registration } from './region.js';
export type { RcacheEvents, LeaveReason, InvalidatedBy } from './events.js';
export type { RcacheStats } from './stats.js';
export type { Policy, ChangeOrigin } from './hears.js';
export type { InvalidationSource, SourceKind, DrainedReports, SelfTestProbe } from './sources/source.js';
export type { MergeMode } from './state.js';
export type { HookableSpace } from './sources/hooks.js';
export type { NotifierSourceOptions } from './sources/notifier.js';
export type { RcacheErrorCode } from './errors.js';
