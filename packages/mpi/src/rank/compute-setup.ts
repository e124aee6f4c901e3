import { COMM_PROTOTYPES, Message } from '../comm.js';
import { ComputeBoundary } from '../compute.js';
import { Request } from '../request.js';
import { CartComm } from '../topology/cart.js';
import { Intercomm } from '../comm/intercomm.js';
import { Group } from '../group.js';

/** The rank's boundary while `measured` compute is on (module state is per rank: one worker thread each). */
let current: ComputeBoundary | undefined;
const boundary = () => current;

/**
 * Puts every runtime entry point behind `b`: each method of the program-facing classes, the
 * request sets, and finalize (MPI_Finalize counts as a call, so the program's last stretch of
 * work is charged). `then` (an `await` on a request) stays inside the runtime until the request
 * settles, so the time it waits is not taken for the program's own work.
 */
export function installComputeBoundary(b: ComputeBoundary, runtimeProto: object): void {
  current = b;
  for (const proto of [...COMM_PROTOTYPES, CartComm.prototype, Intercomm.prototype, Group.prototype, Message.prototype, Request.prototype]) {
    ComputeBoundary.instrument(proto, methodNames(proto).filter((n) => n !== 'then'), boundary);
  }
  ComputeBoundary.instrument(Request, ['waitAll', 'waitAny', 'waitSome', 'testAll', 'testAny', 'testSome'], boundary);
  ComputeBoundary.instrument(runtimeProto, ['finalize'], boundary);
  ComputeBoundary.instrumentThen(Request.prototype, boundary);
}

function methodNames(proto: object): string[] {
  return Object.getOwnPropertyNames(proto).filter((n) => {
    if (n === 'constructor') return false;
    const d = Object.getOwnPropertyDescriptor(proto, n)!;
    return typeof d.value === 'function';
  });
}
