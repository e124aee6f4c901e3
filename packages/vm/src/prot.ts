/** Page protection bits, as PROT_* in <sys/mman.h>. */
export const Prot = { NONE: 0, READ: 1, WRITE: 2, RW: 3 } as const;
export type ProtBits = number;

export type Access = 'read' | 'write';

/** Whether protection `prot` allows `access`. PROT_WRITE alone does not imply read here (stricter than x86). */
export function protAllows(prot: number, access: Access): boolean {
  return access === 'write' ? (prot & Prot.WRITE) !== 0 : (prot & Prot.READ) !== 0;
}
