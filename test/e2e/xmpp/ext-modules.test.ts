/**
 * Extension modules in a running node: the two modules of examples/modules installed, used by
 * ctl, HTTP and a connected XMPP client, changed and reloaded while that client stays
 * connected, upgraded and uninstalled; and modules that are broken in each way, refused with
 * a clear error while the node keeps serving.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawStream, startXmppNode, STREAM_HEADER, type RawStream, type XmppNode } from '../../helpers/xmpp';

jest.setTimeout(60_000);

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples', 'modules');
const source = mkdtempSync(join(tmpdir(), 'ctl-modules-src-'));
cpSync(EXAMPLES, source, { recursive: true });

let x: XmppNode;
beforeAll(async () => {
  x = await startXmppNode({
    users: { 'alice@localhost': 'secret', 'admin@localhost': 'adminpw' },
    config: ['ext_modules:', '  sources:', `    - ${JSON.stringify(source)}`, 'modules:', '  mod_motd:', '    subject: Today', '  mod_hello: {}'].join('\n'),
  });
});
afterAll(async () => {
  await x?.stop();
  rmSync(source, { recursive: true, force: true });
});

const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });
const installed = (name: string) => join(x.home, 'modules', name);

/** A client logged in as alice with one bound resource (no presence yet). */
async function login(): Promise<RawStream> {
  const s = rawStream(x.ports.c2s);
  s.send(STREAM_HEADER());
  await s.until(/<\/stream:features>/);
  s.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`);
  await s.until(/<success/);
  s.send(STREAM_HEADER());
  await s.until(/<success[\s\S]*<\/stream:features>/);
  s.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r1</resource></bind></iq>");
  await s.until(/<jid>alice@localhost\/r1<\/jid>/);
  return s;
}

let asked = 0;
/** Sends a hello IQ and resolves to the greeting of its answer (or the error). */
async function hello(s: RawStream): Promise<string> {
  const id = `hello${++asked}`;
  s.send(`<iq type='get' id='${id}' to='localhost'><hello xmlns='urn:example:hello'/></iq>`);
  const all = await s.until(new RegExp(`id=['"]${id}['"][^>]*>[\\s\\S]*?</iq>`));
  const reply = new RegExp(`<iq[^>]*id=['"]${id}['"][^>]*>([\\s\\S]*?)</iq>`).exec(all)![1];
  return /<greeting>([^<]*)<\/greeting>/.exec(reply)?.[1] ?? reply;
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
}

describe('the example modules in a running node', () => {
  let client: RawStream;
  afterAll(() => client?.destroy());

  test('modules_available lists name and summary of each module of the sources, as ejabberdctl prints them', async () => {
    expect(await x.ctl(['modules_available'])).toEqual(
      ok(
        'mod_hello\tAnswers urn:example:hello IQs with a greeting for the sender\n' +
          'mod_motd\tMessage of the day, set with ctl and sent to users as they log in\n',
      ),
    );
    expect(await x.ctl(['modules_installed'])).toEqual(ok());
  });

  test('module_check checks without installing', async () => {
    expect(await x.ctl(['module_check', 'mod_motd'])).toEqual(ok('0\n'));
    expect(await x.ctl(['modules_installed'])).toEqual(ok());
    expect((await x.ctl(['motd_get', 'localhost'])).stderr).toBe("Error: Unknown command 'motd_get'\n");
  });

  test('module_install loads both into the node: their commands are in help and answer', async () => {
    expect(await x.ctl(['module_install', 'mod_motd'])).toEqual(ok('0\n'));
    expect(await x.ctl(['module_install', 'mod_hello'])).toEqual(ok('0\n'));
    expect(await x.ctl(['modules_installed'])).toEqual(
      ok(
        'mod_hello\tAnswers urn:example:hello IQs with a greeting for the sender\nmod_motd\tMessage of the day, set with ctl and sent to users as they log in\n',
      ),
    );
    const help = (await x.ctl(['help'])).stdout;
    expect(help).toContain('and 2 of extension modules):');
    expect(help).toMatch(/\n {4}motd_set host text +Set the message of the day of HOST, sent to its users as they log in \[module mod_motd\]\n/);
    expect((await x.ctl(['help', 'motd_get'])).stdout).toMatch(/^motd_get: Print the message of the day of HOST \[module mod_motd\]\n/);

    expect(await x.ctl(['motd_get', 'localhost'])).toEqual({ status: 1, stdout: '', stderr: 'Error: No message of the day is set for localhost\n' });
    expect(await x.ctl(['motd_set', 'localhost', 'Welcome to the node'])).toEqual(ok());
    expect(await x.ctl(['motd_get', 'localhost'])).toEqual(ok('Welcome to the node\n'));
    expect((await x.ctl(['motd_set', 'localhost'])).status).toBe(2);
  });

  test('a client that logs in gets the message of the day, with the subject of ctl.yml, and its hello IQ answered', async () => {
    client = await login();
    client.send('<presence/>');
    const got = await client.until(/<message[^>]*type=['"]headline['"][\s\S]*?<\/message>/);
    expect(got).toMatch(/<subject>Today<\/subject><body>Welcome to the node<\/body>/);
    expect(await hello(client)).toBe('Hello, alice@localhost!');
  });

  test('the module commands are served over HTTP; module management is refused there unless ctl.yml allows it', async () => {
    const api = (command: string, body: unknown) =>
      fetch(`http://127.0.0.1:${x.ports.http}/api/${command}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('admin@localhost:adminpw').toString('base64')}` },
        body: JSON.stringify(body),
      }).then(async (r) => [r.status, await r.json()] as const);
    expect(await api('motd_get', { host: 'localhost' })).toEqual([200, { motd: 'Welcome to the node' }]);
    const [status, body] = await api('module_install', { module: 'mod_motd' });
    expect(status).toBe(403);
    expect(body).toMatchObject({ status: 'error', code: 'not_allowed' });
    expect((body as { message: string }).message).toContain('ext_modules: http_api: true');
    expect((await api('modules_installed', {}))[0]).toBe(403);
  });

  test('a changed file shows in update_list; update reloads it while the client stays connected', async () => {
    expect(await x.ctl(['update_list'])).toEqual(ok());
    edit(join(installed('mod_hello'), 'greet.ts'), '`${word}, ${who}!`', '`${word} again, ${who}.`');
    expect(await x.ctl(['update_list'])).toEqual(ok('mod_hello\n'));
    expect(await hello(client)).toBe('Hello, alice@localhost!');
    expect(await x.ctl(['update', 'mod_hello'])).toEqual(ok('Reloaded mod_hello\n'));
    expect(await hello(client)).toBe('Hello again, alice@localhost.');
    expect(await x.ctl(['update_list'])).toEqual(ok());
    expect(await x.ctl(['update', 'all'])).toEqual(ok('No module changed since it was loaded\n'));
    expect(x.log()).toContain('mod_hello: no longer answering urn:example:hello');
  });

  test('compile FILE builds the module of that file and reloads it', async () => {
    const file = join(installed('mod_hello'), 'index.ts');
    edit(file, "'Hello'", "'Hi'");
    expect(await x.ctl(['compile', file])).toEqual(ok());
    expect(await hello(client)).toBe('Hi again, alice@localhost.');
    expect(await x.ctl(['compile', join(source, 'mod_hello', 'index.ts')])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: ${join(source, 'mod_hello', 'index.ts')} is not a file of an installed module (they live in ${join(x.home, 'modules')}/NAME)\n`,
    });
  });

  test('a change that does not build leaves the running version, and says why', async () => {
    const file = join(installed('mod_hello'), 'index.ts');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, `${before}\nexport const broken = ;\n`);
    const r = await x.ctl(['update', 'mod_hello']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: mod_hello: the build failed: index\.ts line \d+: Expression expected; version 1\.0\.0 keeps running\n$/);
    expect(await hello(client)).toBe('Hi again, alice@localhost.');

    writeFileSync(
      file,
      before.replace(
        'export function setup(api: ExtensionApi): void {',
        "export function setup(api: ExtensionApi): void {\n  if (api.name) throw new Error('no greeting today');",
      ),
    );
    const thrown = await x.ctl(['update', 'mod_hello']);
    expect(thrown).toEqual({ status: 1, stdout: '', stderr: 'Error: mod_hello: setup failed: no greeting today; version 1.0.0 keeps running\n' });
    expect(await hello(client)).toBe('Hi again, alice@localhost.');
    writeFileSync(file, before);
  });

  test('module_upgrade installs the newer version of the sources and reloads it', async () => {
    expect((await x.ctl(['module_upgrade', 'mod_hello'])).stderr).toBe(
      'Error: The sources offer mod_hello 1.0.0, and 1.0.0 is installed: nothing newer to upgrade to\n',
    );
    edit(join(source, 'mod_hello', 'module.yml'), 'version: 1.0.0', 'version: 1.1.0');
    edit(join(source, 'mod_hello', 'greet.ts'), '`${word}, ${who}!`', '`${word} from 1.1, ${who}!`');
    expect(await x.ctl(['module_upgrade', 'mod_hello'])).toEqual(ok('0\n'));
    expect(readFileSync(join(installed('mod_hello'), 'module.yml'), 'utf8')).toContain('version: 1.1.0');
    expect(await hello(client)).toBe('Hello from 1.1, alice@localhost!');
    expect(x.log()).toContain('extension module mod_hello 1.1.0 reloaded (was 1.0.0)');
  });

  test('module_uninstall removes the module and its commands; its tables stay for a later install', async () => {
    expect(await x.ctl(['module_uninstall', 'mod_motd'])).toEqual(ok('0\n'));
    expect((await x.ctl(['motd_get', 'localhost'])).stderr).toBe("Error: Unknown command 'motd_get'\n");
    expect(await x.ctl(['modules_installed'])).toEqual(ok('mod_hello\tAnswers urn:example:hello IQs with a greeting for the sender\n'));
    expect(await x.ctl(['module_uninstall', 'mod_motd'])).toEqual({
      status: 1,
      stdout: '',
      stderr: "Error: The module 'mod_motd' is not installed: see modules_installed\n",
    });
    expect(await x.ctl(['module_install', 'mod_motd'])).toEqual(ok('0\n'));
    expect(await x.ctl(['motd_get', 'localhost'])).toEqual(ok('Welcome to the node\n'));
    // Through all of it the client stayed connected.
    expect(await hello(client)).toBe('Hello from 1.1, alice@localhost!');
  });
});

/** Writes module NAME into the source: its manifest (version 1.0.0 unless given) and index.ts. */
function module(name: string, index: string, manifest: Record<string, string> = {}): void {
  const dir = join(source, name);
  mkdirSync(dir, { recursive: true });
  const fields = { name, version: '1.0.0', summary: `The ${name} test module`, author: 'test', ctl: '*', ...manifest };
  writeFileSync(
    join(dir, 'module.yml'),
    Object.entries(fields)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
      .join(''),
  );
  writeFileSync(join(dir, 'index.ts'), index);
}

test('a command under way when its module is reloaded finishes with the code it started with', async () => {
  module(
    'mod_slow',
    "const MARK = 'v1';\nexport function setup(api: any) {\n  const { f, string } = api.types;\n" +
      "  api.defineCommand({ name: 'slow_echo', tags: ['slow'], desc: 'Echo TEXT after a while', args: [f('text', string)], result: f('text', string),\n" +
      '    handler: async ({ text }: { text: string }) => { await new Promise((r) => setTimeout(r, 700)); return `${MARK} ${text}`; } });\n}\n',
  );
  expect(await x.ctl(['module_install', 'mod_slow'])).toEqual(ok('0\n'));
  const underWay = x.ctl(['slow_echo', 'first']);
  await new Promise((r) => setTimeout(r, 100));
  edit(join(installed('mod_slow'), 'index.ts'), "'v1'", "'v2'");
  expect(await x.ctl(['update', 'mod_slow'])).toEqual(ok('Reloaded mod_slow\n'));
  expect(await underWay).toEqual(ok('v1 first\n'));
  expect(await x.ctl(['slow_echo', 'second'])).toEqual(ok('v2 second\n'));
  expect(await x.ctl(['module_uninstall', 'mod_slow'])).toEqual(ok('0\n'));
});

describe('broken modules are refused, and the node keeps serving', () => {
  const refused = async (args: string[], message: string) => {
    expect(await x.ctl(args)).toEqual({ status: 1, stdout: '', stderr: `Error: ${message}\n` });
    expect((await x.ctl(['modules_installed'])).stdout).not.toContain(args[1]);
  };

  afterEach(async () => {
    expect(await x.ctl(['status'])).toMatchObject({ status: 0 });
    expect(await x.ctl(['check_account', 'alice', 'localhost'])).toEqual(ok());
  });

  test('a module whose build fails', async () => {
    module('mod_nobuild', 'export function setup( {\n');
    await refused(['module_install', 'mod_nobuild'], "mod_nobuild: the build failed: index.ts line 2: '}' expected");
    await refused(['module_check', 'mod_nobuild'], "mod_nobuild: the build failed: index.ts line 2: '}' expected");
  });

  test('a module whose manifest is invalid', async () => {
    module('mod_badmeta', 'export function setup() {}\n', { version: 'one', ctl: '>=99.0.0' });
    await refused(
      ['module_check', 'mod_badmeta'],
      "mod_badmeta: module.yml: 'version' must be MAJOR.MINOR.PATCH, got 'one'; module.yml: the module works with ctl >=99.0.0, and this is ctl 0.1.0",
    );
    await refused(
      ['module_install', 'mod_badmeta'],
      "mod_badmeta: module.yml: 'version' must be MAJOR.MINOR.PATCH, got 'one'; module.yml: the module works with ctl >=99.0.0, and this is ctl 0.1.0",
    );
  });

  test('a module without setup, and one whose setup throws', async () => {
    module('mod_nosetup', 'export const x = 1;\n');
    await refused(['module_check', 'mod_nosetup'], 'mod_nosetup: index.ts does not export setup(api)');
    module('mod_throws', "export function setup() { throw new Error('boom'); }\n");
    await refused(['module_check', 'mod_throws'], 'mod_throws: setup failed: boom');
    await refused(['module_install', 'mod_throws'], 'mod_throws: setup failed: boom');
  });

  test('a module that declares a command that exists, or an IQ namespace another module answers', async () => {
    const declare = (name: string) =>
      `export function setup(api: any) {\n  const { f, binary, integer } = api.types;\n  api.defineCommand({ name: '${name}', tags: ['x'], desc: 'd', args: [f('host', binary)], result: f('n', integer), handler: () => 1 });\n}\n`;
    module('mod_clash', declare('register'));
    await refused(['module_check', 'mod_clash'], "mod_clash: the command 'register' already exists (a command of ctl)");
    module('mod_clash2', declare('motd_get'));
    await refused(['module_install', 'mod_clash2'], "mod_clash2: the command 'motd_get' already exists (a command of the module mod_motd)");
    module('mod_pingclash', "export function setup(api: any) { api.xmpp.iq({ xmlns: 'urn:xmpp:ping', to: ['host'] }, () => undefined); }\n");
    await refused(['module_install', 'mod_pingclash'], 'mod_pingclash: the IQ namespace urn:xmpp:ping is answered already (for host); it is not installed');
    expect(await x.ctl(['motd_get', 'localhost'])).toEqual(ok('Welcome to the node\n'));
  });

  test('a module that is in no source, and a name that is not a module name', async () => {
    expect(await x.ctl(['module_install', 'mod_nothing'])).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: No module named 'mod_nothing' in the module sources (${source}): see modules_available\n`,
    });
    expect(await x.ctl(['module_install', '../etc'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "Error: '../etc' is not a module name: lower-case letters, digits and _ (as mod_motd)\nUsage: ctl module_install module\n",
    });
  });
});
