import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicStream } from '../../src/lib/files';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ctl-files-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a streamed file appears whole under its name, replacing what was there', async () => {
  const file = join(dir, 'out.txt');
  writeFileSync(file, 'old');
  await writeFileAtomicStream(file, async (write) => {
    for (let i = 0; i < 1000; i++) await write(`line ${i}\n`);
    await write(Buffer.from('end\n'));
  });
  expect(readFileSync(file, 'utf8')).toBe(`${Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('')}end\n`);
  expect(readdirSync(dir)).toEqual(['out.txt']);
});

test('a failure half-way leaves the old file and no partial one, and is passed on unchanged', async () => {
  const file = join(dir, 'out.txt');
  writeFileSync(file, 'old');
  const boom = new Error('boom');
  await expect(
    writeFileAtomicStream(file, async (write) => {
      await write('partial');
      throw boom;
    }),
  ).rejects.toBe(boom);
  expect(readFileSync(file, 'utf8')).toBe('old');
  expect(readdirSync(dir)).toEqual(['out.txt']);
});

test('an unwritable place is a clear error naming the file', async () => {
  await expect(writeFileAtomic(join(dir, 'no', 'such', 'dir.txt'), 'x')).rejects.toMatchObject({
    code: 'failed',
    message: `Cannot write ${join(dir, 'no', 'such', 'dir.txt')}: the directory does not exist`,
  });
});
