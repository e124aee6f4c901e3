import { UNDEFINED } from '../constants.js';
import type { Status } from '../status.js';
import type { Datatype } from './datatype.js';
import { elementsIn } from './typemap.js';

/** MPI_Get_count with a datatype: whole elements of `type` in the message, UNDEFINED if it ends inside one. */
export function getCountOf(status: Status, type: Datatype): number {
  if (type.size === 0) return status.byteCount === 0 ? 0 : UNDEFINED;
  return status.byteCount % type.size === 0 ? status.byteCount / type.size : UNDEFINED;
}

/**
 * MPI_Get_elements: basic elements (FLOAT64, INT32 …) in the message, counting those of a partly
 * received datatype too; UNDEFINED if the message ends inside a basic element.
 */
export function getElements(status: Status, type: Datatype): number {
  const perType = type.runs.reduce((n, r) => n + r.n, 0);
  if (type.size === 0) return status.byteCount === 0 ? 0 : UNDEFINED;
  const whole = Math.floor(status.byteCount / type.size);
  const part = elementsIn(type.runs, status.byteCount - whole * type.size);
  return part === undefined ? UNDEFINED : whole * perType + part;
}
