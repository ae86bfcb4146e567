import { CommandError } from './errors';
import { cannotRead, openRegularFile } from './files';

/** One line of a file, as bytes; `raw` ends with its newline unless it is an unterminated last line. */
export interface Line {
  readonly raw: Buffer;
  /** Counted from 1, for error messages. */
  readonly number: number;
  readonly terminated: boolean;
}

/** The text of a line without its newline. */
export function lineText(line: Line): string {
  return line.raw.toString('utf8', 0, line.terminated ? line.raw.length - 1 : line.raw.length);
}

const CHUNK_BYTES = 1 << 20;

/**
 * The lines of a file, read a chunk at a time so that a file of any size streams. A line
 * longer than `maxLine` bytes is an error rather than an unbounded buffer: a hostile or broken
 * file cannot make us hold it in memory. `what` names the file in errors ("the backup"). A FIFO, a
 * device or a directory is refused before anything is read.
 */
export async function* readLines(path: string, what: string, maxLine: number): AsyncGenerator<Line> {
  const handle = await openRegularFile(path, what);
  try {
    let pieces: Buffer[] = [];
    let pending = 0;
    let number = 0;
    const tooLong = () => new CommandError('failed', `Cannot read ${what} ${path}: line ${number + 1} is longer than ${maxLine} bytes`);
    for (;;) {
      // A fresh buffer per chunk: the lines handed out are views of it.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      let n: number;
      try {
        n = (await handle.read(chunk, 0, CHUNK_BYTES, null)).bytesRead;
      } catch (err) {
        throw cannotRead(what, path, err);
      }
      if (n === 0) break;
      const data = chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
        let raw = data.subarray(start, nl + 1);
        if (pending > 0) {
          raw = Buffer.concat([...pieces, raw]);
          pieces = [];
          pending = 0;
        }
        if (raw.length - 1 > maxLine) throw tooLong();
        number++;
        yield { raw, number, terminated: true };
        start = nl + 1;
      }
      if (start < n) {
        pieces.push(data.subarray(start));
        pending += n - start;
        if (pending > maxLine) throw tooLong();
      }
    }
    if (pending > 0) yield { raw: Buffer.concat(pieces), number: number + 1, terminated: false };
  } finally {
    await handle.close();
  }
}
