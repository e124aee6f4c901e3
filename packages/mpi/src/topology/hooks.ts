import type { Comm } from '../comm.js';
import type { CartComm } from './cart.js';

/**
 * How Comm.cartCreate reaches topology/cart.ts: CartComm extends Comm, so comm.ts cannot import it
 * without an import cycle that evaluates `extends Comm` before Comm exists. cart.ts fills this in
 * when it loads (the package's index imports it).
 */
export const topologyHooks: {
  cartCreate?: (comm: Comm, dims: readonly number[], periods: readonly boolean[], reorder: boolean) => CartComm | null;
} = {};
