import { promises as fsp } from 'node:fs';

/**
 * Makes the disk look full to this process: files opened for writing from now on take
 * `capacity` bytes in all, then every write fails with ENOSPC, as Linux does. A write that
 * crosses the limit is short (it writes what fits and says so), which is what a careless
 * writer takes for success. `chunk` caps every write, to make short writes on a roomy disk.
 * Undone by jest.restoreAllMocks().
 */
export function fullDisk(capacity: number, chunk = Infinity): void {
  let left = capacity;
  const open = fsp.open.bind(fsp);
  jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
    const handle = await open(...args);
    const flags = args[1];
    const writing = typeof flags === 'number' ? (flags & 3) !== 0 : typeof flags === 'string' && /[wa+]/.test(flags);
    if (!writing) return handle;
    const write = handle.write.bind(handle) as (b: Buffer, o: number, l: number, p: number | null) => Promise<{ bytesWritten: number; buffer: Buffer }>;
    const limited = async (data: Buffer | string, offset = 0, length?: number, position: number | null = null) => {
      const buffer = typeof data === 'string' ? Buffer.from(data) : data;
      const wanted = length ?? buffer.length - offset;
      const n = Math.min(wanted, chunk, left);
      if (wanted > 0 && n === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      left -= n;
      return write(buffer, offset, n, position);
    };
    handle.write = limited as unknown as typeof handle.write;
    return handle;
  });
}
