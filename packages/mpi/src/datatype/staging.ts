import type { Target } from '../p2p/operations.js';
import type { Request } from '../request.js';
import { TypedBuffer, type TypedArrayCtor } from '../typed-buffer.js';
import { viewType, type BufferArg } from './buffer-spec.js';
import { packInto, unpackFrom } from './pack.js';

/** What staging needs of the rank: its heap and the memcpy charge on the program clock. */
export interface StagingHost {
  readonly heap: { malloc(n: number): number; free(p: number): void };
  chargeLocal(bytes: number): number;
}

/** Runs `then` once the program first sees `req` complete (after the engine's own observation). */
export function afterObserved(req: Request, then: (req: Request) => void): Request {
  const observe = req.onObserve;
  req.onObserve = (r) => {
    observe?.(r);
    then(req);
  };
  return req;
}

/**
 * Where a receive into `arg` lands. A contiguous argument: its own bytes. Otherwise a staging
 * buffer from the heap, unpacked into the typemap's segments (charged at the memcpy rate) and freed
 * when the program sees the receive complete — pass the posted request through `finish`.
 */
export function receiveTarget(host: StagingHost, arg: BufferArg): Exclude<Target, 'object'> {
  const elementSize = arg.elementSize;
  if (arg.contiguous) return { addr: arg.dataAddr, capacity: arg.bytes, elementSize };
  const staging = host.heap.malloc(Math.max(1, arg.bytes));
  const memory = arg.buf.memory;
  // an sge rendezvous reads straight into the segments and sets landed: nothing to unpack then
  const direct = { segments: arg.segments(), span: arg.span(), landed: false };
  return {
    addr: staging, capacity: arg.bytes, elementSize, direct,
    finish: (req) => afterObserved(req, (r) => {
      const got = r.completed && r.statusValue !== undefined && r.errorValue === undefined ? r.statusValue.byteCount : 0;
      if (got > 0 && !direct.landed) {
        unpackFrom(arg, memory.read(staging, got), 0, got);
        host.chargeLocal(got);
      }
      host.heap.free(staging);
    }),
  };
}

/**
 * Buffer arguments of one collective call as TypedBuffers the collective algorithms take: a
 * TypedBuffer as it is; a contiguous [buf, count, datatype] as a view of its bytes; a
 * non-contiguous one packed into a temporary (inputs now, outputs unpacked by finish()).
 */
export class CollectiveStaging {
  private readonly outputs: { arg: BufferArg; temp: TypedBuffer }[] = [];
  private readonly temps: TypedBuffer[] = [];

  constructor(private readonly host: StagingHost, private readonly normalize: (spec: unknown) => BufferArg | TypedBuffer) {}

  in<B>(spec: B): B extends null | undefined ? B : TypedBuffer {
    return this.stage(spec, true, false) as never;
  }

  out<B>(spec: B): B extends null | undefined ? B : TypedBuffer {
    return this.stage(spec, false, true) as never;
  }

  inout<B>(spec: B): B extends null | undefined ? B : TypedBuffer {
    return this.stage(spec, true, true) as never;
  }

  /** Unpacks the outputs (charged at the memcpy rate) and frees the temporaries. */
  finish(): void {
    for (const { arg, temp } of this.outputs) {
      if (temp.byteLength === 0) continue;
      unpackFrom(arg, temp.memory.read(temp.addr, arg.bytes));
      this.host.chargeLocal(arg.bytes);
    }
    for (const t of this.temps) t.free();
    this.outputs.length = this.temps.length = 0;
  }

  /** Blocking call: `call`, then finish(); the temporaries are freed even if it throws. */
  run<R>(call: () => R): R {
    let ok = false;
    try {
      const r = call();
      ok = true;
      return r;
    } finally {
      if (ok) this.finish();
      else this.release();
    }
  }

  /** Nonblocking call: finish() once the program sees the request complete. */
  after(req: Request): Request {
    return this.temps.length === 0 ? req : afterObserved(req, (r) => (r.errorValue === undefined ? this.finish() : this.release()));
  }

  private release(): void {
    for (const t of this.temps) t.free();
    this.outputs.length = this.temps.length = 0;
  }

  private stage(spec: unknown, input: boolean, output: boolean): unknown {
    if (spec === null || spec === undefined || !Array.isArray(spec)) return spec;
    const arg = this.normalize(spec) as BufferArg;
    const type = viewType(arg);
    const n = arg.bytes / type.BYTES_PER_ELEMENT;
    const memory = arg.buf.memory;
    if (arg.contiguous) return new TypedBuffer(memory, type as TypedArrayCtor, arg.dataAddr, n, false);
    const temp = new TypedBuffer(memory, type as TypedArrayCtor, this.host.heap.malloc(Math.max(1, arg.bytes)), n, true);
    this.temps.push(temp);
    if (input && arg.bytes > 0) {
      const packed = new Uint8Array(arg.bytes);
      packInto(arg, packed);
      memory.write(temp.addr, packed);
      this.host.chargeLocal(arg.bytes);
    }
    if (output) this.outputs.push({ arg, temp });
    return temp;
  }
}
