/**
 * set_loglevel takes the level as ctl.yml's loglevel does: 0 to 5, or the level's name.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctlProcess, ensureBuilt, killNodes, trackNodes } from '../helpers/proc';

jest.setTimeout(120_000);
beforeAll(ensureBuilt);

const home = mkdtempSync(join(tmpdir(), 'ctl-loglevel-'));
const ctl = (args: readonly string[]) => ctlProcess(home, args);
const { pids, startNode } = trackNodes(() => home);
const USAGE = 'Usage: ctl set_loglevel loglevel\n';

beforeAll(startNode);
afterAll(async () => {
  if (existsSync(join(home, 'run', 'ctl.sock'))) await ctl(['stop']);
  await killNodes(pids, home);
  rmSync(home, { recursive: true, force: true });
});

test.each([
  ['debug', '5\tdebug\tDebug\n'],
  ['warning', '3\twarning\tWarning\n'],
  ['none', '0\tnone\tNo log\n'],
  ['Critical', '1\tcritical\tCritical\n'],
  ['2', '2\terror\tError\n'],
  ['info', '4\tinfo\tInfo\n'],
])('set_loglevel %s answers the name, and get_loglevel shows the level', async (word, level) => {
  const name = level.split('\t')[1];
  expect(await ctl(['set_loglevel', word])).toEqual({ status: 0, stdout: `${name}\n`, stderr: '' });
  expect(await ctl(['get_loglevel'])).toEqual({ status: 0, stdout: level, stderr: '' });
});

test('a name ctl.yml does not know is a usage error that lists the names', async () => {
  expect(await ctl(['set_loglevel', 'verbose'])).toEqual({
    status: 2,
    stdout: '',
    stderr: `Error: Bad value for argument 'loglevel': expected a whole number or one of none, critical, error, warning, info, debug, got 'verbose'\n${USAGE}`,
  });
});

test('the node logs the change by number, as before', async () => {
  await ctl(['set_loglevel', 'info']);
  expect(readFileSync(join(home, 'log', 'ctl.log'), 'utf8')).toMatch(/\[info\] log level set to 4\n$/);
});
