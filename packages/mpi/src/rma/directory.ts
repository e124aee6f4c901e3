import { RmaAttachError, RmaRangeError } from './errors.js';

/** One registered range of a target's window, as origins know it: [addr, addr + length) behind rkey. */
export interface ExposedRegion {
  addr: number;
  length: number;
  rkey: number;
}

/** What every origin learns about a target at creation (and, for dynamic windows, at each fence). */
export interface TargetInfo {
  /** Static windows: the base address and size in bytes; dynamic windows: 0 and the attached regions. */
  base: number;
  size: number;
  dispUnit: number;
  regions: ExposedRegion[];
  /** The target's control block: lock word at +0, accumulate lock at +8 (REMOTE_ATOMIC). */
  ctlAddr: number;
  ctlRkey: number;
}

/**
 * The address and key of `bytes` bytes at displacement `disp` of `target`'s window: base + disp ×
 * dispUnit for a created or allocated window, the absolute address for a dynamic one (MPI_BOTTOM).
 */
export function locate(info: TargetInfo, dynamic: boolean, target: number, disp: number, bytes: number): { addr: number; rkey: number } {
  if (!Number.isSafeInteger(disp) || disp < 0) throw new RmaRangeError(`target displacement must be an integer >= 0, got ${String(disp)}`);
  if (dynamic) {
    const r = info.regions.find((x) => disp >= x.addr && disp + bytes <= x.addr + x.length);
    if (r === undefined) {
      throw new RmaAttachError(
        `rank ${target} has no attached region covering [${disp}, ${disp + bytes}) as of this origin's last fence: ` +
          'attach the memory at the target and fence (or create the window again) before accessing it',
      );
    }
    return { addr: disp, rkey: r.rkey };
  }
  const off = disp * info.dispUnit;
  if (off + bytes > info.size) {
    throw new RmaRangeError(
      `access of ${bytes} bytes at displacement ${disp} (byte ${off}) of rank ${target}'s window falls outside its ${info.size} bytes`,
    );
  }
  return { addr: info.base + off, rkey: info.regions[0]?.rkey ?? 0 };
}

/**
 * A target's info as one Float64Array (msgpack carries it as fixed-size binary): its size depends on
 * the number of regions only, not on the key values, so the exchange costs the same bytes whatever
 * keys the adapter handed out (which depends on which thread registered first) and virtual time stays exact.
 */
export function encodeInfo(i: TargetInfo): Float64Array {
  return Float64Array.from([i.base, i.size, i.dispUnit, i.ctlAddr, i.ctlRkey, ...i.regions.flatMap((r) => [r.addr, r.length, r.rkey])]);
}

export function decodeInfo(a: Float64Array): TargetInfo {
  const regions: ExposedRegion[] = [];
  for (let k = 5; k + 2 < a.length; k += 3) regions.push({ addr: a[k]!, length: a[k + 1]!, rkey: a[k + 2]! });
  return { base: a[0]!, size: a[1]!, dispUnit: a[2]!, ctlAddr: a[3]!, ctlRkey: a[4]!, regions };
}
