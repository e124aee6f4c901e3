export { VmError, SegmentationFault, InvalidArgument, OutOfMemory, MemlockLimitExceeded, BadAddress, PermissionDenied, StaleView } from './errors.js';
export { Prot, protAllows } from './prot.js';
export { PhysicalMemory } from './physical-memory.js';
export { AddressSpace } from './address-space.js';
export { RemoteAddressSpace } from './remote-address-space.js';
export { MmuNotifier } from './mmu-notifier.js';
export { MemoryHooks } from './memory-hooks.js';
export { MappedView } from './mapped-view.js';

export type { VmErrorCode } from './errors.js';
export type { Access } from './prot.js';
export type { PhysicalMemoryHandle, PhysicalMemoryStats } from './physical-memory.js';
export type { AddressSpaceHandle, AddressSpaceOptions, AddressSpaceStats, PhysicalRun } from './address-space.js';
export type { Vma } from './vma.js';
export type { InvalidationEvent, InvalidationRange, MmuNotifierStats, MmuNotifierSubscriber, Syscall } from './mmu-notifier.js';
export type { MemoryHookEvent, MemoryHookListener } from './memory-hooks.js';
