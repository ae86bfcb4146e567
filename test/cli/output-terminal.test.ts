/**
 * The real launcher in a shell: a reader that goes away early (`| head`) and a real terminal
 * (a pseudo-terminal from util-linux's `script`), whose width tables fit and which gets colour.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ctlProcess, ensureBuilt, launcher } from '../helpers/proc';

jest.setTimeout(120_000);

let home: string;
const USERS = 30_000;

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'ctl-terminal-'));
  // Plain passwords: SCRAM would spend most of the test hashing them.
  writeFileSync(join(home, 'ctl.yml'), 'auth_password_format: plain\n');
  const lines = Array.from({ length: USERS }, (_, i) => `register user${i} localhost pw\n`).join('');
  const r = await ctlProcess(home, ['batch'], { stdin: lines });
  if (r.status !== 0) throw new Error(`registering failed: ${r.stderr}`);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface ShellResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a bash script with CTL as the launcher and HOME_DIR as the home. */
function shell(script: string, env: NodeJS.ProcessEnv = {}): Promise<ShellResult> {
  return new Promise((done) => {
    execFile(
      'bash',
      ['-c', script],
      { env: { ...cleanEnv(), CTL: `${process.execPath} ${launcher}`, HOME_DIR: home, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => done({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a reader that stops early', () => {
  test('ctl registered_users | head -2: two lines, no stack trace, the status of a listing', async () => {
    // The listing is far larger than a pipe's buffer, so ctl is still writing when head leaves.
    const r = await shell('$CTL registered_users localhost --home "$HOME_DIR" | head -2; echo "status ${PIPESTATUS[0]}"');
    expect(r).toEqual({ status: 0, stdout: 'user0\nuser1\nstatus 0\n', stderr: '' });
  });

  test('a failing command keeps its status when nobody reads', async () => {
    const r = await shell('$CTL check_account nobody localhost --home "$HOME_DIR" | true; echo "status ${PIPESTATUS[0]}"');
    expect(r).toEqual({ status: 0, stdout: 'status 1\n', stderr: '' });
  });

  test('ctl batch whose reader left still runs every line', async () => {
    const r = await shell(
      'for i in $(seq 1 3000); do echo "register late$i localhost pw"; done | $CTL batch --home "$HOME_DIR" | head -1; echo "status ${PIPESTATUS[1]}"; ' +
        '$CTL registered_users localhost --home "$HOME_DIR" | grep -c "^late"',
    );
    expect(r).toEqual({ status: 0, stdout: 'User late1@localhost successfully registered\nstatus 0\n3000\n', stderr: '' });
  });
});

describe('under a pseudo-terminal', () => {
  /** Runs `command` on a terminal COLS wide; what the terminal showed, without its CRs. */
  async function onTerminal(command: string, cols: number, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const r = await shell(`script -qfec ${quote(`stty cols ${cols} rows 50; ${command}`)} /dev/null`, env);
    expect(r.status).toBe(0);
    return r.stdout.replace(/\r\n/g, '\n');
  }
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
  const ESC = '\u001b[';

  test('a table fits the terminal, its widest column wrapped, its headers coloured', async () => {
    const shown = await onTerminal('$CTL tell_list_3tuple --home "$HOME_DIR"', 36);
    expect(shown).toContain(`${ESC}36mthisinteger${ESC}39m`);
    expect(strip(shown)).toBe(
      '┌─────────────┬─────────┬──────────┐\n' +
        '│ thisinteger │ thistri │ thisatom │\n' +
        '│             │ ng      │          │\n' +
        '├─────────────┼─────────┼──────────┤\n' +
        '│ 123         │ abcdefg │ first    │\n' +
        '│             │ hijkl   │          │\n' +
        '│ 593         │ this    │ morning  │\n' +
        '│             │ string  │          │\n' +
        '│ 999         │ Sleepin │ not_seen │\n' +
        '│             │ g dog   │          │\n' +
        '└─────────────┴─────────┴──────────┘\n',
    );
  });

  test('a wide terminal shows the table whole; every line within its width', async () => {
    const shown = strip(await onTerminal('$CTL tell_list_3tuple --home "$HOME_DIR"', 120));
    expect(shown.split('\n')[1]).toBe('│ thisinteger │ thistring    │ thisatom │');
    const narrow = strip(
      await onTerminal(
        '$CTL get_roster user1 localhost --home "$HOME_DIR"; $CTL splitjids a@very-long-domain.example.org/resource-one,b@x.org --home "$HOME_DIR"',
        30,
      ),
    );
    for (const line of narrow.split('\n')) expect([...line].length).toBeLessThanOrEqual(30);
  });

  test('NO_COLOR=1 drops the escape codes; an empty NO_COLOR does not', async () => {
    const plain = await onTerminal('$CTL tell_list_3tuple --home "$HOME_DIR"; $CTL tell_restuple 2 --home "$HOME_DIR"; true', 80, { NO_COLOR: '1' });
    expect(plain).not.toContain(ESC);
    expect(plain).toContain('Error: This is an error message\n');
    const coloured = await onTerminal('$CTL tell_restuple 2 --home "$HOME_DIR"; true', 80, { NO_COLOR: '' });
    expect(coloured).toContain(`${ESC}31m${ESC}1mError:`);
  });

  test('FORCE_COLOR colours a pipe; FORCE_COLOR=0 keeps a terminal plain', async () => {
    const piped = await shell('$CTL tell_list_3tuple --format table --home "$HOME_DIR" | cat', { FORCE_COLOR: '1' });
    expect(piped.stdout).toContain(`${ESC}36mthisinteger${ESC}39m`);
    const off = await onTerminal('$CTL tell_list_3tuple --home "$HOME_DIR"', 80, { FORCE_COLOR: '0' });
    expect(off).not.toContain(ESC);
    expect(off.split('\n')[1]).toBe('│ thisinteger │ thistring    │ thisatom │');
  });

  test('the result scripts read is the same bytes whatever the terminal', async () => {
    const piped = await shell('$CTL tell_list_3tuple --home "$HOME_DIR" | cat', { FORCE_COLOR: '1', COLUMNS: '20' });
    expect(piped).toEqual({ status: 0, stdout: '123\tabcdefghijkl\tfirst\n593\tthis string\tmorning\n999\tSleeping dog\tnot_seen\n', stderr: '' });
  });
});
