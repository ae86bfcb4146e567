import { CommandError } from '../lib/errors';
import { cannotRead, openRegularFile } from '../lib/files';

/**
 * Reads an input file (a spool file, an old configuration) whole, after checking that it is a
 * regular file no larger than `maxBytes`: a FIFO would block forever and /dev/zero would fill
 * the memory. `what` names the file in errors, e.g. `the jabberd14 spool file`. UTF-8 is
 * required, unless `latin1` says that other bytes are ISO-8859-1 (Erlang's old default).
 */
export async function readInputText(path: string, what: string, maxBytes: number, options: { latin1?: boolean } = {}): Promise<string> {
  const cannot = (why: string) => new CommandError('failed', `Cannot read ${what} ${path}: ${why}`);
  const handle = await openRegularFile(path, what);
  try {
    const st = await handle.stat();
    if (st.size > maxBytes) throw cannot(`it is larger than ${maxBytes} bytes`);
    // One byte more than allowed, in case the file grew since stat.
    const buf = Buffer.alloc(Math.min(maxBytes, st.size) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got > maxBytes) throw cannot(`it is larger than ${maxBytes} bytes`);
    const bytes = buf.subarray(0, got);
    const bad = firstInvalidUtf8(bytes);
    if (bad < 0) return bytes.toString('utf8');
    if (options.latin1) return bytes.toString('latin1');
    throw cannot(`it is not UTF-8 text (byte ${bad + 1} is invalid)`);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw cannotRead(what, path, err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if ((x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}
