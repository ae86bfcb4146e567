/**
 * The README's examples run, so that it cannot drift from the program. A fenced block whose
 * info string is `sh runnable` (GitHub reads only the first word) is run with the built ctl on
 * the PATH, in a fresh home and working directory of its own, on the default configuration.
 *
 * - A block whose lines start with `$ ` is a transcript: each `$ ` line is a command, and the
 *   lines under it, up to the next `$ ` line, are exactly what it prints on stdout.
 * - Any other block is a script: each line (a trailing `\` continues it) is a command; what it
 *   prints is not checked.
 *
 * Every command must exit 0. A block that needs a node starts it (`ctl start`) and stops it
 * (`ctl stop`) itself; a node left running by a failing block is stopped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ensureBuilt, killNodes, launcher, root } from '../helpers/proc';

interface Step {
  readonly command: string;
  /** What it prints, in a transcript; undefined in a script. */
  readonly stdout?: string;
}

interface Block {
  readonly line: number;
  readonly steps: readonly Step[];
}

const README = readFileSync(join(root, 'README.md'), 'utf8');

/** Joins the lines a trailing backslash continues. */
function logicalLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of lines) {
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)}\n`;
    else {
      out.push(pending + line);
      pending = '';
    }
  }
  if (pending !== '') out.push(pending);
  return out;
}

function runnableBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh runnable\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(indent));
    if (j === lines.length) throw new Error(`README line ${i + 1}: runnable block without its closing fence`);
    blocks.push({ line: i + 1, steps: stepsOf(body) });
    i = j;
  }
  return blocks;
}

function stepsOf(body: readonly string[]): Step[] {
  if (!body.some((l) => l.startsWith('$ '))) {
    return logicalLines(body)
      .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
      .map((command) => ({ command }));
  }
  const steps: { command: string; out: string[] }[] = [];
  const commandLines: string[] = [];
  for (const line of body) {
    if (commandLines.length > 0) {
      commandLines.push(line);
      if (!line.endsWith('\\')) steps.push({ command: logicalLines(commandLines.splice(0))[0], out: [] });
    } else if (line.startsWith('$ ')) {
      commandLines.push(line.slice(2));
      if (!line.endsWith('\\')) steps.push({ command: logicalLines(commandLines.splice(0))[0], out: [] });
    } else if (steps.length === 0) {
      throw new Error(`output before the first command: ${line}`);
    } else {
      steps[steps.length - 1].out.push(line);
    }
  }
  return steps.map((s) => ({ command: s.command, stdout: s.out.map((l) => `${l}\n`).join('') }));
}

let scratch: string;
let bin: string;

beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'ctl-readme-'));
  bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(launcher, join(bin, 'ctl'));
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const blocks = runnableBlocks(README);

test('the README marks its examples runnable, and its quick start tests as CI does', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(10);
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  const testCommand = ci.trimEnd().split('\n').pop();
  expect(testCommand).toBe('npm test');
  const quickStart = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## ', README.indexOf('## Quick start') + 1));
  expect(quickStart).toMatch(/^npm ci && npm link +# /m);
  expect(quickStart).toMatch(new RegExp(`^${testCommand} +# `, 'm'));
});

describe.each(blocks.map((b) => [b.line, b] as const))('README block at line %d', (line, block) => {
  test('runs, each command exiting 0 with the output shown', async () => {
    const dir = join(scratch, `block-${line}`);
    const userHome = join(dir, 'user');
    const work = join(dir, 'work');
    mkdirSync(userHome, { recursive: true });
    mkdirSync(work);
    // The default home, as a new user's: ~/.local/share/ctl.
    const ctlHome = join(userHome, '.local', 'share', 'ctl');
    const env = { ...cleanEnv(), HOME: userHome, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
    try {
      for (const step of block.steps) {
        const r = spawnSync('bash', ['-o', 'pipefail', '-c', step.command], { cwd: work, env, encoding: 'utf8', timeout: 30_000 });
        const seen = { command: step.command, status: r.status, stdout: step.stdout === undefined ? undefined : r.stdout, stderr: r.stderr };
        // stderr is not checked, but shown when a command fails.
        expect(seen).toEqual({ command: step.command, status: 0, stdout: step.stdout, stderr: r.stderr });
      }
    } finally {
      const pidFile = join(ctlHome, 'run', 'ctl.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        spawnSync('ctl', ['stop'], { env, timeout: 20_000 });
        if (Number.isInteger(pid) && pid > 0) await killNodes([pid], ctlHome);
      }
    }
  }, 45_000);
});
