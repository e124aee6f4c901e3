/**
 * The two PMI wire formats MPICH's Hydra and Slurm speak to their processes (MPICH src/pmi/maint/pmi-1.1.txt
 * and pmi-2.0.txt name the commands; this is our own codec of them):
 *
 *   PMI-1   one line per command, attributes separated by spaces:
 *             cmd=put kvsname=kvs_7_0 key=addr-1 value=10.0.0.2:4711\n
 *   PMI-2   a 6-character decimal length, then attributes each ended by ';' (a ';' inside a value is
 *           written ';;'):
 *             "    44cmd=kvs-get;jobid=;srcid=-1;key=addr-1;"
 *           Its very first exchange is still a PMI-1 line (`cmd=init pmi_version=2 pmi_subversion=0`).
 *
 * Both sides of both formats are here: tsmpi's clients encode queries and decode replies; its own
 * PMI-1 server (--procs) decodes queries and encodes replies.
 */
import { PmiError } from '../../errors.js';

export interface PmiCommand {
  cmd: string;
  attrs: Record<string, string>;
}

export const PMI2_LENGTH_DIGITS = 6;
/** MPICH's limit on a PMI-2 command (PMII_MAX_COMMAND_LEN). */
export const PMI2_MAX_COMMAND = 64 * 1024;
/** Hydra's limits (its `get_maxes` reply): keys up to 64 characters, values up to 1024. */
export const PMI_KEY_MAX = 64;
export const PMI_VALUE_MAX = 1024;

/** `cmd=NAME k=v ...\n`. Values cannot hold spaces or newlines in PMI-1: they would end the attribute. */
export function encodeV1(c: PmiCommand): string {
  let line = `cmd=${c.cmd}`;
  for (const [k, v] of Object.entries(c.attrs)) {
    if (/[\s]/.test(v) || /[\s=]/.test(k)) {
      throw new PmiError(`PMI-1 attribute ${k}=${JSON.stringify(v)} holds a space, '=' in its key or a newline: PMI-1 cannot carry it`);
    }
    line += ` ${k}=${v}`;
  }
  return line + '\n';
}

/** One PMI-1 line (without its newline). */
export function decodeV1(line: string): PmiCommand {
  const attrs: Record<string, string> = {};
  let cmd: string | undefined;
  for (const word of line.trim().split(/ +/)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) throw new PmiError(`PMI-1 line ${JSON.stringify(line)}: '${word}' is not key=value`);
    const k = word.slice(0, eq);
    const v = word.slice(eq + 1);
    if (k === 'cmd' && cmd === undefined) cmd = v;
    else attrs[k] = v;
  }
  if (cmd === undefined) throw new PmiError(`PMI-1 line ${JSON.stringify(line)} has no cmd=`);
  return { cmd, attrs };
}

/** The PMI-2 body `cmd=NAME;k=v;...;` behind its 6-character length. */
export function encodeV2(c: PmiCommand): string {
  let body = `cmd=${c.cmd};`;
  for (const [k, v] of Object.entries(c.attrs)) body += `${k}=${v.replaceAll(';', ';;')};`;
  const bytes = Buffer.byteLength(body);
  if (bytes > PMI2_MAX_COMMAND) throw new PmiError(`PMI-2 command ${c.cmd} is ${bytes} bytes; the protocol's limit is ${PMI2_MAX_COMMAND}`);
  return String(bytes).padStart(PMI2_LENGTH_DIGITS, ' ') + body;
}

/** A PMI-2 body (after its length): `k=v;` pairs, ';;' standing for a literal ';'. */
export function decodeV2(body: string): PmiCommand {
  const attrs: Record<string, string> = {};
  let cmd: string | undefined;
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new PmiError(`PMI-2 command ${JSON.stringify(body)}: '${body.slice(i)}' is not key=value;`);
    const key = body.slice(i, eq);
    let value = '';
    let j = eq + 1;
    for (;;) {
      const semi = body.indexOf(';', j);
      if (semi < 0) {
        value += body.slice(j); // a last pair without its ';' is tolerated
        j = body.length;
        break;
      }
      value += body.slice(j, semi);
      if (body[semi + 1] === ';') {
        value += ';';
        j = semi + 2;
        continue;
      }
      j = semi + 1;
      break;
    }
    if (key === 'cmd' && cmd === undefined) cmd = value;
    else attrs[key] = value;
    i = j;
  }
  if (cmd === undefined) throw new PmiError(`PMI-2 command ${JSON.stringify(body)} has no cmd=`);
  return { cmd, attrs };
}

/** Which framing the bytes on a connection are in. */
export type Framing = 'v1' | 'v2';

/**
 * Splits a byte stream into PMI commands. PMI-1 ends each at '\n'; PMI-2 reads a 6-character length
 * first. The framing can change between commands (PMI-2 starts with one PMI-1 line).
 */
export class PmiReader {
  private buf = '';
  framing: Framing;

  constructor(framing: Framing) {
    this.framing = framing;
  }

  push(chunk: string): void {
    this.buf += chunk;
  }

  /** The next whole command, or undefined until more bytes arrive. Throws PmiError on a bad frame. */
  next(): PmiCommand | undefined {
    if (this.framing === 'v1') {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) {
        if (this.buf.length > PMI2_MAX_COMMAND) throw new PmiError(`a PMI-1 line longer than ${PMI2_MAX_COMMAND} bytes arrived: not a PMI peer`);
        return undefined;
      }
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      return line.trim() === '' ? this.next() : decodeV1(line);
    }
    if (this.buf.length < PMI2_LENGTH_DIGITS) return undefined;
    const head = this.buf.slice(0, PMI2_LENGTH_DIGITS);
    // Hydra right-justifies the length, Slurm and MPICH's client left-justify it: read both.
    const len = /^ *\d+ *$/.test(head) ? Number(head.trim()) : NaN;
    if (!(len >= 0 && len <= PMI2_MAX_COMMAND)) throw new PmiError(`PMI-2 length prefix ${JSON.stringify(head)} is not a length up to ${PMI2_MAX_COMMAND}`);
    // Lengths count bytes; our buffer holds characters. PMI payloads are ASCII (addresses, hex), so they agree.
    if (this.buf.length < PMI2_LENGTH_DIGITS + len) return undefined;
    const body = this.buf.slice(PMI2_LENGTH_DIGITS, PMI2_LENGTH_DIGITS + len);
    this.buf = this.buf.slice(PMI2_LENGTH_DIGITS + len);
    return decodeV2(body);
  }
}
