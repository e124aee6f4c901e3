import type { AdapterKind, PinMode } from '../types.js';
import type { MemoryBackend } from './backend.js';
import { mlock } from './mlock.js';
import { odp } from './odp.js';
import { pinning } from './pinning.js';

export type { BackendRegion, FaultResult, MemoryBackend, OwnedRegionView } from './backend.js';
export { NEEDS_FAULT } from './backend.js';

/** Every backend by its M_BACKING code. A new backend is one module and one entry here. */
const BY_CODE: readonly MemoryBackend[] = (() => {
  const all = [pinning, mlock, odp];
  const out: MemoryBackend[] = [];
  for (const b of all) out[b.code] = b;
  return out;
})();

/** The backend an adapter of this kind registers with. */
export function backendFor(kind: AdapterKind, pinMode: PinMode): MemoryBackend {
  return kind === 'odp' ? odp : pinMode === 'mlock' ? mlock : pinning;
}

/** The backend of a region, from the M_BACKING code in its shared row (any thread, any node's adapter). */
export function backendOf(code: number): MemoryBackend {
  return BY_CODE[code]!;
}
