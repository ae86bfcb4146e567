/**
 * The same call gives the same JSON on the command line (`--format json`) and over HTTP, for
 * every command of the registry, but for a rescode: true or false on the command line, the
 * HTTP API's 0 or 1 over HTTP. Two nodes with the same history serve the two sides, so that
 * a command that changes data meets the same state on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCommands } from '../../../commands';
import { exampleValues } from '../../../src/docs/examples';
import { exampleWord } from '../../../src/docs/cli-text';
import { callerArgs } from '../../../src/core/args';
import { runCli } from '../../helpers/cli';
import { curl, startHttpNode, type HttpNode } from '../../helpers/http-node';

jest.setTimeout(180_000);

// Lifecycle commands would stop the nodes under the walk (they have tests of their own), and
// two commands answer with a secret that differs from node to node by design.
const SKIPPED = new Set(['stop', 'restart', 'stop_kindly', 'get_cookie', 'api_token_create']);

let cli: HttpNode;
let http: HttpNode;
let cwd: string;
const startDir = process.cwd();

beforeAll(async () => {
  // Module management is refused over HTTP unless allowed; allowed, it must answer as ctl does.
  const modules = 'ext_modules:\n  http_api: true\n';
  [cli, http] = [await startHttpNode(modules), await startHttpNode(modules)];
  // delete_old_users would otherwise remove the administrator the HTTP side logs in as.
  const now = String(Math.floor(Date.now() / 1000));
  for (const node of [cli, http]) for (const u of ['admin', 'bob']) await runCli(['set_last', u, 'localhost', now, '', '--home', node.dir]);
  // Commands that write files get relative names: both sides must write into the same place.
  cwd = mkdtempSync(join(tmpdir(), 'ctl-walk-'));
  process.chdir(cwd);
});
afterAll(async () => {
  process.chdir(startDir);
  rmSync(cwd, { recursive: true, force: true });
  await cli.stop();
  await http.stop();
});

test('every command answers the same JSON through the command line and the HTTP API', async () => {
  const mismatches: string[] = [];
  let compared = 0;
  for (const command of allCommands) {
    if (SKIPPED.has(command.name)) continue;
    const args = callerArgs(command);
    const values = exampleValues(args, command.policy === 'user' ? undefined : command.argsExample);
    const words = args.map((a, i) => exampleWord(a.type, values[i]));
    const named = Object.fromEntries(args.map((a, i) => [a.name, values[i]]));

    const line = await runCli([command.name, ...words, '--format', 'json', '--home', cli.dir]);
    const web = await curl([
      '-u',
      'admin@localhost:secret',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      JSON.stringify(named),
      `${http.url}/api/${command.name}`,
    ]);
    // Each node names its own home in some messages (the configuration file).
    const fromLine = (text: string): unknown => {
      const value = JSON.parse(text) as unknown;
      return command.result.type.kind === 'rescode' ? (value === true ? 0 : 1) : value;
    };
    const fromCli =
      line.stdout !== ''
        ? fromLine(line.stdout)
        : {
            error: String((JSON.parse(line.stderr.split('\n')[0]) as { message: string }).message)
              .replace(/ \(run with --debug for the stack trace\)$/, '')
              .split(cli.dir)
              .join('HOME'),
          };
    const body = JSON.parse(web.body);
    const fromHttp = body?.status === 'error' ? { error: String(body.message).split(http.dir).join('HOME') } : body;
    compared++;
    if (JSON.stringify(fromCli) !== JSON.stringify(fromHttp))
      mismatches.push(`${command.name}: cli ${JSON.stringify(fromCli)} http ${JSON.stringify(fromHttp)}`);
  }
  expect(mismatches).toEqual([]);
  expect(compared).toBe(allCommands.length - SKIPPED.size);
});
