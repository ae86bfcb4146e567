import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { adminApiCommands, allCommands } from '../commands';
import { createRegistry } from '../src/core/registry';
import { prettyField, prettyType } from '../src/schema/pretty';
import type { Command } from '../src/core/command';

const registry = createRegistry(allCommands);
const api = createRegistry(adminApiCommands);
const SPEC = resolve(__dirname, '../../shared/spec/admin-api.md');

/** One line per command: `name(arg::type, ...) -> {res,type}` with types in Erlang form. */
function signature(c: Pick<Command, 'name' | 'args' | 'result'>): string {
  return `${c.name}(${c.args.map((a) => `${a.name}::${prettyType(a.type)}`).join(', ')}) -> ${prettyField(c.result).replace(/\s+/g, '')}`;
}

/** The same lines, read from the spec's "## *name*", "- *arg* :: type" and "### Result:" parts. */
function specSignatures(text: string): string[] {
  return text
    .split(/\n(?=## \*)/)
    .slice(1)
    .map((block) => {
      const name = /^## \*([a-z0-9_]+)\*/.exec(block)![1];
      const argsPart = block.slice(block.indexOf('### Arguments:'), block.indexOf('### Result:'));
      const args = [...argsPart.matchAll(/^(?:- )?\*([a-z0-9_]+)\* :: (.+)$/gm)].map((m) => `${m[1]}::${m[2]}`);
      const result = /### Result:\n([\s\S]*?)\n\n/.exec(block)![1].replace(/\s+/g, '');
      return `${name}(${args.join(', ')}) -> ${result}`;
    });
}

const CONNECTED_USERS_INFO_2301 =
  'connected_users_info() -> {connected_users_info,{list,{session,{tuple,[{jid,string},{connection,string},{ip,string},{port,integer},' +
  '{priority,integer},{node,string},{uptime,integer},{status,string},{resource,string},{statustext,string}]}}}}';

describe('the registry', () => {
  const ours = api.list().map(signature);

  test("declares the 156 commands of the Administration API, each once, besides ctl's own", () => {
    expect(adminApiCommands).toHaveLength(156);
    expect(new Set(adminApiCommands.map((c) => c.name)).size).toBe(156);
    expect(allCommands.filter((c) => c.origin === 'ctl').map((c) => c.name)).toEqual(['api_token_create', 'api_token_list', 'api_token_revoke']);
  });

  test('matches the names, argument names, types, order and results of the spec', () => {
    // The spec sits beside the repository in development and CI; the digest below pins the
    // same listing so that a checkout without it still checks every signature.
    // connected_users_info is declared as ejabberd 23.01 declares it, not as the older reference does.
    const info = ours.findIndex((sig) => sig.startsWith('connected_users_info('));
    expect(ours[info]).toBe(CONNECTED_USERS_INFO_2301);
    if (existsSync(SPEC)) {
      const spec = specSignatures(readFileSync(SPEC, 'utf8'));
      expect(ours.filter((_, i) => i !== info)).toEqual(spec.filter((sig) => !sig.startsWith('connected_users_info(')));
    }
    expect(createHash('md5').update(ours.join('\n')).digest('hex')).toBe('bccb613327a42ae60b1e145762caa50f');
  });

  test('gives every command tags, a policy, a module, and a description (the spec leaves module_* without one)', () => {
    for (const c of allCommands) {
      expect(c.tags.length).toBeGreaterThan(0);
      expect(['admin', 'user', 'open', 'restricted']).toContain(c.policy);
      expect(c.module).toMatch(/^[a-z_0-9]+$/);
      if (!c.name.startsWith('module')) expect(c.desc).not.toBe('');
      expect(c.module).not.toBe(c.origin === 'ctl' ? '' : 'ctl');
    }
  });

  test('uses ejabberd tags and policies', () => {
    const pick = (name: string) => {
      const c = registry.get(name)!;
      return [c.tags, c.policy];
    };
    expect(pick('register')).toEqual([['accounts'], 'admin']);
    expect(pick('get_roster')).toEqual([['roster'], 'user']);
    expect(pick('connected_users_number')).toEqual([['session', 'stats'], 'admin']);
    expect(pick('delete_old_users')).toEqual([['accounts', 'purge'], 'restricted']);
    expect(pick('convert_to_scram')).toEqual([['odbc'], 'restricted']);
    expect([...registry.tags().keys()]).toEqual([
      'accounts',
      'admin',
      'api',
      'cluster',
      'config',
      'documentation',
      'erlang',
      'last',
      'logs',
      'mnesia',
      'modules',
      'muc',
      'muc_room',
      'odbc',
      'offline',
      'private',
      'purge',
      'roster',
      's2s',
      'server',
      'session',
      'shared_roster_group',
      'stanza',
      'stats',
      'test',
      'vcard',
    ]);
  });

  test('suggests the nearest name for a misspelt one', () => {
    expect(registry.suggest('registerd_users')).toBe('registered_users');
    expect(registry.suggest('chek_acount')).toBe('check_account');
    expect(registry.suggest('xyzzy')).toBeUndefined();
  });

  test('refuses a command declared twice', () => {
    expect(() => createRegistry([allCommands[0], allCommands[0]])).toThrow(/declared twice/);
  });
});
