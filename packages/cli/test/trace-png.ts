import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** An 8-bit RGB or RGBA, non-interlaced PNG (what headless Chromium writes) decoded to RGBA rows. */
export interface Image { width: number; height: number; pixel(x: number, y: number): [number, number, number] }

export function readPng(file: string): Image {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file} is not a PNG`);
  let off = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (off < b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    const data = b.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8]!, color = data[9]!, interlace = data[12]!;
      if (depth !== 8 || interlace !== 0 || (color !== 2 && color !== 6)) throw new Error(`unsupported PNG (depth ${depth}, color ${color}, interlace ${interlace})`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0, c = i >= channels ? up[i - channels]! : 0, u = up[i]!;
      let p: number;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = u; break;
        case 3: p = (a + u) >> 1; break;
        case 4: { const q = a + u - c, pa = Math.abs(q - a), pb = Math.abs(q - u), pc = Math.abs(q - c); p = pa <= pb && pa <= pc ? a : pb <= pc ? u : c; break; }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      row[i] = (src[i]! + p) & 0xff;
    }
  }
  return { width, height, pixel: (x, y) => { const i = y * stride + x * channels; return [out[i]!, out[i + 1]!, out[i + 2]!]; } };
}
