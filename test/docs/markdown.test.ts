import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { adminApiCommands as allCommands } from '../../commands';
import { CommandError } from '../../src/lib/errors';
import type { Command } from '../../src/core/command';
import { prettyField, prettyTerm, prettyType, type Term } from '../../src/schema/pretty';
import { atom, binary, f, integer, list, rescode, string, tuple } from '../../src/schema/types';
import { exampleResult, exampleValues } from '../../src/docs/examples';
import { PUBLISHED_REFERENCE_MD5 } from '../helpers/reference';
import { DOC_LANGUAGES, parseDocLanguages, renderMarkdown, selectCommands } from '../../src/docs/markdown';

const SPEC = path.resolve(__dirname, '../../../shared/spec/admin-api.md');

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');
const byName = (name: string): Command => allCommands.find((c) => c.name === name)!;
const headings = (doc: string): string[] => [...doc.matchAll(/^## \*(\w+)\*/gm)].map((m) => m[1]!);

describe('renderMarkdown: the published reference', () => {
  const doc = renderMarkdown(allCommands, '', ['perl', 'xmlrpc', 'json']);

  test('reproduces the published reference byte for byte (md5)', () => {
    expect(md5(doc)).toBe(PUBLISHED_REFERENCE_MD5);
  });

  // The reference describes connected_users_info as older ejabberd releases did (7 fields);
  // ejabberd 23.01 prints 10 (status, resource, statustext added), and so does this node.
  test('equals shared/spec/admin-api.md when it is present, but for connected_users_info', () => {
    if (!existsSync(SPEC)) return;
    const sections = (text: string) => text.split(/(?=^## \*)/m);
    const ours = sections(doc);
    const reference = sections(readFileSync(SPEC, 'utf8'));
    expect(ours.length).toBe(reference.length);
    const differing = ours.flatMap((section, i) => (section === reference[i] ? [] : [headings(section)[0]]));
    expect(differing).toEqual(['connected_users_info']);
  });

  test('documents all 156 commands once, sorted by name', () => {
    const names = headings(doc);
    expect(names).toHaveLength(156);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(156);
  });
});

describe('renderMarkdown: selection and languages', () => {
  test('a regexp on the name selects one command, rendered exactly', () => {
    expect(renderMarkdown(allCommands, '^echo_string$', ['perl'])).toBe(
      '---\ntitle: Administration API reference\nbodyclass: nocomment\n---\n' +
        '\n## *echo_string* - Echo String\n\n\nEcho String\n' +
        '\n### Arguments:\n- *thisstring* :: string\n' +
        '\n### Result:\n{thatstring,string}' +
        '\n\n### Examples;\n\n* Perl\n{: .code-samples-labels}\n' +
        '\n* ~~~ perl\n    XMLRPC::Lite->proxy($url)->call("echo_string", {\n      thisstring => "aaaaa"\n    })->results()\n~~~\n' +
        '{: .code-samples-tabs}\n\n',
    );
  });

  test('the regexp is unanchored and also matches the module', () => {
    const selected = selectCommands(allCommands, 'mod_admin');
    expect(selected).toHaveLength(50);
    expect(new Set(selected.map((c) => c.module))).toEqual(new Set(['mod_admin_extra']));
    expect(selected.map((c) => c.name).slice(0, 3)).toEqual(['add_rosteritem', 'ban_account', 'change_password']);
    expect(headings(renderMarkdown(allCommands, 'mod_admin', []))).toEqual(selected.map((c) => c.name));
  });

  test('name and module matches combine, sorted in byte order', () => {
    const names = selectCommands(allCommands, '^(tell_atom|pow)$|ejabberd_logger').map((c) => c.name);
    expect(names).toEqual(['get_loglevel', 'pow', 'tell_atom']);
    const mixed = ['b', 'B', '_a', 'a'].map((name) => ({ ...byName('pow'), name }));
    expect(selectCommands(mixed, '').map((c) => c.name)).toEqual(['B', '_a', 'a', 'b']);
  });

  test('an invalid regexp is a bad_argument', () => {
    expect(() => selectCommands(allCommands, '(')).toThrow(expect.objectContaining({ code: 'bad_argument' }));
  });

  test('labels and blocks come in the fixed order Java, Perl, XmlRPC, JSON', () => {
    const doc = renderMarkdown(allCommands, '^get_cookie$', ['json', 'java']);
    expect(doc).toContain('\n### Examples;\n\n* Java\n* JSON\n{: .code-samples-labels}\n\n* ~~~ java\n');
    expect(doc.indexOf('~~~ java')).toBeLessThan(doc.indexOf('~~~ json'));
    expect(doc).not.toContain('~~~ perl');
    expect(doc).not.toContain('~~~ xml');
  });

  test('the java block builds an XML-RPC call with a struct of the arguments', () => {
    const doc = renderMarkdown(allCommands, '^echo_integer_list_string$', ['java']);
    expect(doc).toContain(
      '* ~~~ java\n' +
        '    XmlRpcClientConfigImpl config = new XmlRpcClientConfigImpl();\n' +
        '    config.setServerURL(new URL(url));\n    \n' +
        '    XmlRpcClient client = new XmlRpcClient();\n' +
        '    client.setConfig(config);\n    \n' +
        '    client.execute("echo_integer_list_string", new Object[] {new HashMap<String, Object>() {{\n' +
        '      put("thisinteger", 1);\n' +
        '      put("thislist", new Object[] {\n' +
        '        new HashMap<String, Object>() {{\n          put("thisstring", "aaaaa");\n        }},\n' +
        '        new HashMap<String, Object>() {{\n          put("thisstring", "bbbbb");\n        }}\n' +
        '      });\n' +
        '    }}});\n~~~\n',
    );
  });

  test('declared examples are used as given', () => {
    const doc = renderMarkdown(allCommands, '^gen_markdown_doc_for_commands$', ['perl', 'json']);
    expect(doc).toContain('      file => "/home/me/docs/api.html",\n      regexp => "mod_admin",\n      examples => "java,json"\n');
    expect(doc).toContain('    HTTP/1.1 200 OK\n    ""\n~~~\n');
  });

  test('a failing rescode example answers 500', () => {
    const failing: Command = { ...byName('stop'), resultExample: false };
    expect(renderMarkdown([failing], '', ['json'])).toContain('    HTTP/1.1 500 Internal Server Error\n    ""\n');
  });
});

describe('parseDocLanguages', () => {
  test('accepts a comma list in any order and returns display order', () => {
    expect(parseDocLanguages('json,perl')).toEqual(['perl', 'json']);
    expect(parseDocLanguages(' xmlrpc , java,,java')).toEqual(['java', 'xmlrpc']);
    expect(parseDocLanguages('')).toEqual([]);
    expect(DOC_LANGUAGES).toEqual(['java', 'perl', 'xmlrpc', 'json']);
  });

  test('names the unknown language and the allowed ones', () => {
    let error: unknown;
    try {
      parseDocLanguages('perl,python');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({
      code: 'bad_argument',
      message: "Unknown example language 'python': choose from java, perl, xmlrpc, json",
    });
    expect(() => renderMarkdown(allCommands, '', ['perl', 'PERL'])).toThrow("Unknown example language 'PERL'");
  });
});

describe('prettyField: io_lib:format("~p") layout', () => {
  test('short terms are flat', () => {
    expect(prettyField(f('res', rescode))).toBe('{res,rescode}');
    expect(prettyType(binary)).toBe('binary');
    expect(prettyType(tuple(f('listlen', integer), f('thislist', list(f('contentstring', string)))))).toBe(
      '{tuple,[{listlen,integer},{thislist,{list,{contentstring,string}}}]}',
    );
  });

  test('aligns the elements after {tag, when that stays left of column 40', () => {
    expect(prettyField(byName('echo_integer_list_string').result)).toBe(
      '{thistuple,{tuple,[{thatinteger,integer},\n' + ' '.repeat(19) + '{thatlist,{list,{thatstring,string}}}]}}',
    );
    expect(prettyField(byName('get_roster').result)).toBe(
      [
        '{contacts,{list,{contact,{tuple,[{jid,string},',
        ...['{nick,string},', '{subscription,string},', '{ask,string},', '{group,string}]}}}}'].map((line) => ' '.repeat(33) + line),
      ].join('\n'),
    );
  });

  test('indents by 4 when aligning would pass column 40', () => {
    const fields = [
      '{connection,string},',
      '{ip,string},',
      '{port,integer},',
      '{priority,integer},',
      '{node,string},',
      '{uptime,integer},',
      '{status,string},',
      '{resource,string},',
    ];
    expect(prettyField(byName('connected_users_info').result)).toBe(
      [
        '{connected_users_info,',
        '    {list,',
        '        {session,',
        '            {tuple,',
        '                [{jid,string},',
        ...fields.map((line) => ' '.repeat(17) + line),
        ' '.repeat(17) + '{statustext,string}]}}}}',
      ].join('\n'),
    );
  });

  test('keeps short atoms on the line and fits the last element before its closers', () => {
    const result = f('a_result_with_a_rather_long_name', tuple(f('first_field_name', integer), f('second_field_name', string), f('third', atom)));
    expect(prettyField(result)).toBe(
      '{a_result_with_a_rather_long_name,\n    {tuple,\n        [{first_field_name,integer},{second_field_name,string},{third,atom}]}}',
    );
  });

  test('falls back to an indent of 1 when neither mode stays in the left half', () => {
    let term: Term = 'integer';
    for (let i = 12; i >= 1; i--) term = { tuple: [`level_${String(i).padStart(2, '0')}_xx`, term] };
    const lines = prettyTerm(term).split('\n');
    expect(lines).toHaveLength(10);
    lines.forEach((line, i) => expect(line.startsWith(`${' '.repeat(i)}{level_${String(i + 1).padStart(2, '0')}_xx,`)).toBe(true));
    expect(lines[9]).toBe(' '.repeat(9) + '{level_10_xx,{level_11_xx,{level_12_xx,integer}}}}}}}}}}}}');
  });

  test('quotes atoms that need it', () => {
    expect(prettyField(f('end', list(f('Item', string))))).toBe("{'end',{list,{'Item',string}}}");
  });
});

describe('example values', () => {
  test('letters and numbers run on across arguments, lists have two elements', () => {
    expect(exampleValues(byName('echo_isatils').args)).toEqual([1, 'aaaaa', 'bbbbb', { listlen: 2, thislist: ['ccccc', 'ddddd'] }]);
  });

  test('results start afresh; rescode is ok and restuple is {ok,"Success"}', () => {
    const result = f('pairs', list(f('pair', tuple(f('n', integer), f('s', string)))));
    expect(exampleResult({ result })).toEqual([
      { n: 1, s: 'aaaaa' },
      { n: 2, s: 'bbbbb' },
    ]);
    expect(exampleResult(byName('register'))).toEqual({ ok: true, text: 'Success' });
    expect(exampleResult(byName('stop'))).toBe(true);
  });
});
