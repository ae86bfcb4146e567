/**
 * Running the real launcher, bin/ctl, which loads dist/. The README's test command builds
 * before jest; when dist/ is missing or older than a source file (someone ran jest alone
 * after an edit), `ensureBuilt` builds it once so that we never test stale code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '..', '..');
export const launcher = join(root, 'bin', 'ctl');
// The build's last output: the code cache of the command line's bundle.
const built = join(root, 'dist', 'src', 'node', `cli-bundle-${process.version}.cache`);

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const sources = Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'commands')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', timeout: 110_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`npm run build failed; the e2e tests need dist/:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

export interface ProcResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without anything that would choose another home than the test's. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['CTL_HOME', 'CTL_CONFIG', 'XDG_DATA_HOME', 'NO_COLOR', 'FORCE_COLOR']) delete env[k];
  // A node without `listen` takes any free port for clients, never this machine's 5222.
  env.CTL_C2S_PORT = '0';
  return env;
}

/** Runs `ctl ARGS --home HOME` as its own process; never rejects, and kills it after 90 s. */
export function ctlProcess(home: string, args: readonly string[], options: { stdin?: string; cwd?: string } = {}): Promise<ProcResult> {
  const child = spawn(process.execPath, [launcher, ...args, '--home', home], { env: cleanEnv(), cwd: options.cwd, timeout: 90_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

/** Alive and not a zombie (nothing may reap an orphaned node in a container). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A node of this home, not some process that got its pid since. */
export function isNodeOf(pid: number, dir: string): boolean {
  try {
    return alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

/** Makes sure none of the nodes of `home` seen by a test survives it. */
export async function killNodes(pids: Iterable<number>, home: string): Promise<void> {
  for (const pid of pids) {
    if (isNodeOf(pid, home)) process.kill(pid, 'SIGKILL');
    await waitGone(pid, 10_000);
  }
}

/**
 * The nodes a test starts in the home `home()` names: their pids are remembered so that
 * afterEach can make sure none survives (`killNodes(tracker.pids, home)`).
 */
export function trackNodes(home: () => string) {
  const pids = new Set<number>();
  const nodePid = (): number => {
    const pid = Number(readFileSync(join(home(), 'run', 'ctl.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no node pid in ${home()}/run/ctl.pid`);
    pids.add(pid);
    return pid;
  };
  return {
    pids,
    nodePid,
    /** `ctl start`, which must succeed; the new node's pid. */
    async startNode(): Promise<number> {
      const r = await ctlProcess(home(), ['start', '--timeout', '60']);
      if (r.status !== 0 || r.stdout !== '' || r.stderr !== '') throw new Error(`ctl start failed: ${JSON.stringify(r)}`);
      return nodePid();
    },
  };
}
