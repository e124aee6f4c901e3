export { Datatype, INT8, UINT8, INT16, UINT16, INT32, UINT32, FLOAT32, FLOAT64, BIGINT64, BIGUINT64, BYTE } from './datatype.js';
export type { ArrayOrder, Block } from './datatype.js';
export { BufferArg, normalizeSpec } from './buffer-spec.js';
export type { BufferSpec, MemorySegment } from './buffer-spec.js';
export type { Segment } from './typemap.js';
export { getElements, getCountOf } from './counts.js';
