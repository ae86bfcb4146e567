import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempHome } from '../helpers/cli';
import { openLevelStore } from '../../src/storage/level';
import { hostPrivacy, privacyDefaultKey, privacyListKey } from '../../src/features/privacy/records';

let home: ReturnType<typeof tempHome>;
beforeEach(() => (home = tempHome()));
afterEach(() => home.cleanup());

const ok = { status: 0, stdout: '', stderr: '' };
const USAGE = 'Usage: ctl privacy_set user host xmlquery\n';
const q = (inner: string) => `<query xmlns='jabber:iq:privacy'>${inner}</query>`;
const set = (inner: string, user = 'alice') => home.ctl(['privacy_set', user, 'localhost', q(inner)]);
const usage = (message: string) => ({ status: 2, stdout: '', stderr: `Error: Invalid privacy query (xmlquery): ${message}\n${USAGE}` });
const fails = (message: string) => ({ status: 1, stdout: '', stderr: `Error: ${message}\n` });

beforeEach(async () => {
  writeFileSync(join(home.dir, 'ctl.yml'), 'auth_password_format: plain\n');
  for (const user of ['alice', 'bob']) expect((await home.ctl(['register', user, 'localhost', 'pw'])).status).toBe(0);
});

/** The privacy table: key parts after host␀user joined by |, for every user, with values. */
async function stored(): Promise<Record<string, unknown>> {
  const store = await openLevelStore(join(home.dir, 'db'));
  try {
    const out: Record<string, unknown> = {};
    for await (const e of hostPrivacy(store, 'localhost')) {
      if (e.kind === 'default') out[privacyDefaultKey(e.jid).join('|')] = { name: e.name };
      else out[privacyListKey(e.jid, e.list.name).join('|')] = e.list;
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('privacy_set', () => {
  test('stores a list with its validated items sorted by order, and the default list', async () => {
    const r = await set(
      "<list name='work'>" +
        "<item type='jid' value='Boss@Example.ORG/Desk' action='deny' order='20'><message/><presence-in/></item>" +
        "<item type='group' value='Friends' action='allow' order='5'/>" +
        "<item type='subscription' value='none' action='deny' order='10'><iq/><presence-out/></item>" +
        "<item action='allow' order='0'/>" +
        '</list>' +
        "<default name='work'/>",
    );
    expect(r).toEqual(ok);
    expect(await stored()).toEqual({
      'localhost|alice|default': { name: 'work' },
      'localhost|alice|list|work': {
        name: 'work',
        items: [
          { action: 'allow', order: 0, stanzas: [] },
          { type: 'group', value: 'Friends', action: 'allow', order: 5, stanzas: [] },
          { type: 'subscription', value: 'none', action: 'deny', order: 10, stanzas: ['iq', 'presence-out'] },
          { type: 'jid', value: 'boss@example.org/Desk', action: 'deny', order: 20, stanzas: ['message', 'presence-in'] },
        ],
      },
    });
  });

  test("replaces a list of the same name, keeps the others and other users' lists; an empty list removes it", async () => {
    expect(await set("<list name='a'><item action='deny' order='1'/></list><list name='b'><item action='allow' order='1'/></list>")).toEqual(ok);
    expect(await set("<list name='a'><item action='allow' order='1'/></list>", 'bob')).toEqual(ok);
    expect(await set("<list name='a'><item action='allow' order='7'/></list>")).toEqual(ok);
    expect(Object.keys(await stored())).toEqual(['localhost|alice|list|a', 'localhost|alice|list|b', 'localhost|bob|list|a']);
    expect((await stored())['localhost|alice|list|a']).toEqual({ name: 'a', items: [{ action: 'allow', order: 7, stanzas: [] }] });
    expect(await set("<list name='b'/>")).toEqual(ok);
    expect(Object.keys(await stored())).toEqual(['localhost|alice|list|a', 'localhost|bob|list|a']);
  });

  test('removing a list that does not exist fails', async () => {
    expect(await set("<list name='ghost'/>")).toEqual(fails("Privacy list 'ghost' of alice@localhost does not exist"));
  });

  test('the default must name an existing list; <default/> clears it; <active/> is checked but not stored', async () => {
    expect(await set("<default name='work'/>")).toEqual(fails("Privacy list 'work' of alice@localhost does not exist"));
    expect(await set("<active name='work'/>")).toEqual(fails("Privacy list 'work' of alice@localhost does not exist"));
    expect(await set("<list name='work'><item action='deny' order='1'/></list>")).toEqual(ok);
    expect(await set("<default name='work'/>")).toEqual(ok);
    expect(await set("<active name='work'/>")).toEqual(ok);
    expect(await set('<active/>')).toEqual(ok);
    expect((await stored())['localhost|alice|default']).toEqual({ name: 'work' });
    expect(await set('<default/>')).toEqual(ok);
    expect(Object.keys(await stored())).toEqual(['localhost|alice|list|work']);
  });

  test('the default list cannot be removed unless the same query changes or clears the default', async () => {
    await set("<list name='a'><item action='deny' order='1'/></list><list name='b'><item action='deny' order='1'/></list><default name='a'/>");
    expect(await set("<list name='a'/>")).toEqual(
      fails("Privacy list 'a' of alice@localhost is the default list: make another list the default, or clear it with <default/>, before removing it"),
    );
    expect(await set("<list name='a'/><default name='a'/>")).toEqual(fails("Privacy list 'a' of alice@localhost does not exist"));
    expect(Object.keys(await stored())).toEqual(['localhost|alice|default', 'localhost|alice|list|a', 'localhost|alice|list|b']);
    expect(await set("<list name='a'/><default name='b'/>")).toEqual(ok);
    expect(await stored()).toEqual({
      'localhost|alice|default': { name: 'b' },
      'localhost|alice|list|b': { name: 'b', items: [{ action: 'deny', order: 1, stanzas: [] }] },
    });
    expect(await set("<default/><list name='b'/>")).toEqual(ok);
    expect(await stored()).toEqual({});
  });

  test.each([
    ["<list name='x'><item action='block' order='1'/></list>", "list 'x': an item's action must be allow or deny, not 'block'"],
    ["<list name='x'><item order='1'/></list>", "list 'x': an item's action must be allow or deny, not ''"],
    ["<list name='x'><item action='deny' order='-1'/></list>", "list 'x': an item's order must be a whole number from 0 to 4294967295, not '-1'"],
    ["<list name='x'><item action='deny' order='1.5'/></list>", "list 'x': an item's order must be a whole number from 0 to 4294967295, not '1.5'"],
    [
      "<list name='x'><item action='deny' order='4294967296'/></list>",
      "list 'x': an item's order must be a whole number from 0 to 4294967295, not '4294967296'",
    ],
    ["<list name='x'><item action='deny'/></list>", "list 'x': an item's order must be a whole number from 0 to 4294967295, not ''"],
    ["<list name='x'><item action='deny' order='3'/><item action='allow' order='3'/></list>", "list 'x' has two items of order 3"],
    ["<list name='x'><item type='domain' value='a' action='deny' order='1'/></list>", "list 'x': unknown item type 'domain': use jid, group or subscription"],
    [
      "<list name='x'><item type='subscription' value='all' action='deny' order='1'/></list>",
      "list 'x': unknown subscription 'all': use none, to, from or both",
    ],
    ["<list name='x'><item type='jid' action='deny' order='1'/></list>", "list 'x': the item of order 1 has a type but no value"],
    ["<list name='x'><item value='a@b' action='deny' order='1'/></list>", "list 'x': the item of order 1 has a value but no type"],
    ["<list name='x'><item type='group' value='' action='deny' order='1'/></list>", "list 'x': the item of order 1 names an empty group"],
    [
      "<list name='x'><item action='deny' order='1'><presence/></item></list>",
      "list 'x': unknown <presence/> in an item: use message, iq, presence-in or presence-out",
    ],
    ["<list name='x'><rule action='deny' order='1'/></list>", "list 'x' has a <rule/> where only <item/> may be"],
    ["<list><item action='deny' order='1'/></list>", 'a <list/> needs a name'],
    ["<list name=''/>", 'a <list/> needs a name'],
    ["<list name='x'><item action='deny' order='1'/></list><list name='x'><item action='deny' order='2'/></list>", "list 'x' is given twice"],
    ["<default name='x'/><default/>", 'more than one <default/>'],
    ['<block/>', 'unknown <block/>: use list, default or active'],
  ])('refuses %s as a usage error, storing nothing', async (inner, message) => {
    expect(await set(inner)).toEqual(usage(message));
    expect(await stored()).toEqual({});
  });

  test('a malformed JID in an item is a usage error naming xmlquery', async () => {
    expect(await set("<list name='x'><item type='jid' value='a@@b' action='deny' order='1'/></list>")).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Invalid host name '@b' (xmlquery)\n${USAGE}`,
    });
  });

  test('refuses another element or namespace, and malformed XML', async () => {
    expect(await home.ctl(['privacy_set', 'alice', 'localhost', "<query xmlns='jabber:iq:roster'/>"])).toEqual(
      usage("expected <query xmlns='jabber:iq:privacy'>, got <query xmlns='jabber:iq:roster'>"),
    );
    expect(await home.ctl(['privacy_set', 'alice', 'localhost', '<list/>'])).toEqual(usage("expected <query xmlns='jabber:iq:privacy'>, got <list>"));
    expect(await home.ctl(['privacy_set', 'alice', 'localhost', "<query xmlns='jabber:iq:privacy'><list name='x'>"])).toEqual({
      status: 2,
      stdout: '',
      stderr: `Error: Malformed XML in argument 'xmlquery' (line 1, column 48): unclosed tag: list\n${USAGE}`,
    });
  });

  test('accepts a prefixed query element', async () => {
    expect(
      await home.ctl([
        'privacy_set',
        'alice',
        'localhost',
        "<p:query xmlns:p='jabber:iq:privacy'><p:list name='x'><p:item action='deny' order='1'/></p:list></p:query>",
      ]),
    ).toEqual(ok);
    expect(Object.keys(await stored())).toEqual(['localhost|alice|list|x']);
  });

  test('the user must exist on a configured host', async () => {
    expect(await set("<list name='x'><item action='deny' order='1'/></list>", 'nobody')).toEqual(fails('User nobody@localhost does not exist'));
    const r = await home.ctl(['privacy_set', 'alice', 'example.org', q('')]);
    expect(r).toEqual(fails(`Unknown host 'example.org': this node serves localhost (hosts in ${join(home.dir, 'ctl.yml')})`));
  });

  test('unregister removes the lists and the default', async () => {
    await set("<list name='x'><item action='deny' order='1'/></list><default name='x'/>");
    await set("<list name='y'><item action='deny' order='1'/></list>", 'bob');
    expect((await home.ctl(['unregister', 'alice', 'localhost'])).status).toBe(0);
    expect(Object.keys(await stored())).toEqual(['localhost|bob|list|y']);
  });
});
