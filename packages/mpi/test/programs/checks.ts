// What the MPICH-style test programs share: an element-by-element comparison that collects what is
// wrong (so one run reports every failed check, not the first), and the code of the typed error a call raises.
import { MpiError } from '@tsmpi/mpi';

/** A comparison that pushes the first differing element (or a length mismatch) of `what` onto `wrong`. */
export function elementChecker(wrong: string[]): (what: string, got: ArrayLike<number>, want: ArrayLike<number>) => void {
  return (what, got, want) => {
    if (got.length !== want.length) return void wrong.push(`${what}: ${got.length} elements, want ${want.length}`);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return void wrong.push(`${what}[${i}]: ${got[i]}, want ${want[i]}`);
  };
}

/** The MPI error code `f` raises: 'no error' when it raises none, 'not typed: …' for an error that is not an MpiError. */
export function errorCodeOf(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof MpiError ? e.code : `not typed: ${String(e)}`;
  }
}
