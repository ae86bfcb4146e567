import { adminApiCommands as allCommands } from '../../commands';
import type { Command } from '../../src/core/command';
import { callerArgs } from '../../src/core/args';
import { escapeHtml, renderHtml } from '../../src/docs/html';

const byName = (name: string): Command => allCommands.find((c) => c.name === name)!;

/** The section of one command in a rendered page. */
function section(page: string, name: string): string {
  const start = page.indexOf(`<section id="${name}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf('</section>', start) + '</section>'.length);
}

/** Checks that every non-void element is closed in order (no stray `<` from unescaped text). */
function expectBalanced(page: string): void {
  const VOID = new Set(['meta', '!DOCTYPE']);
  const stack: string[] = [];
  for (const [, closing, tag] of page.matchAll(/<(\/?)([!\w]+)[^>]*>/g)) {
    if (VOID.has(tag!)) continue;
    if (closing) expect(`</${stack.pop()}>`).toBe(`</${tag}>`);
    else stack.push(tag!);
  }
  expect(stack).toEqual([]);
}

describe('escapeHtml', () => {
  test('escapes the five HTML-special characters and nothing else', () => {
    expect(escapeHtml(`<b class="x">Tom & Jerry's</b> ~ é`)).toBe('&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt; ~ é');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});

describe('callerArgs', () => {
  test('user-policy commands take the account first', () => {
    expect(callerArgs(byName('get_roster'))).toEqual([
      { name: 'user', type: { kind: 'binary' } },
      { name: 'server', type: { kind: 'binary' } },
    ]);
    expect(callerArgs(byName('get_offline_count')).map((a) => a.name)).toEqual(['user', 'server']);
  });

  test('other commands keep their declared arguments', () => {
    const command = byName('num_resources');
    expect(callerArgs(command)).toBe(command.args);
  });
});

describe('renderHtml', () => {
  test('renders a standalone HTML5 page with one section per selected command', () => {
    const page = renderHtml(allCommands, '^(echo_string|echo_integer)$', ['perl']);
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')).toBe(true);
    expect(page).toContain('<title>Administration API reference</title>');
    expect(page).toContain('<h1>Administration API reference</h1>');
    expect(page.endsWith('</body>\n</html>\n')).toBe(true);
    expect([...page.matchAll(/<section id="(\w+)">/g)].map((m) => m[1])).toEqual(['echo_integer', 'echo_string']);
    expectBalanced(page);
  });

  test('a command section has its description, typed arguments, result and examples', () => {
    expect(section(renderHtml(allCommands, '^echo_string$', ['perl', 'json']), 'echo_string')).toBe(
      [
        '<section id="echo_string">',
        '<h2><code>echo_string</code> - Echo String</h2>',
        '<p class="longdesc">Echo String</p>',
        '<h3>Arguments</h3>',
        '<ul>',
        '<li><strong>thisstring</strong> :: <code>string</code></li>',
        '</ul>',
        '<h3>Result</h3>',
        '<pre><code>{thatstring,string}</code></pre>',
        '<h3>Examples</h3>',
        '<h4>Perl</h4>',
        '<pre><code class="language-perl">XMLRPC::Lite-&gt;proxy($url)-&gt;call(&quot;echo_string&quot;, {',
        '  thisstring =&gt; &quot;aaaaa&quot;',
        '})-&gt;results()</code></pre>',
        '<h4>JSON</h4>',
        '<pre><code class="language-json">POST /api/echo_string',
        '{',
        '  &quot;thisstring&quot;: &quot;aaaaa&quot;',
        '}',
        '',
        'HTTP/1.1 200 OK',
        '{&quot;thatstring&quot;: &quot;aaaaa&quot;}</code></pre>',
        '</section>',
      ].join('\n'),
    );
  });

  test('described arguments and the result description use a definition list', () => {
    const html = section(renderHtml(allCommands, '^gen_html_doc_for_commands$', []), 'gen_html_doc_for_commands');
    expect(html).toContain('<dl>\n<dt><strong>file</strong> :: <code>binary</code></dt><dd>Path to file where generated documentation should be stored</dd>\n');
    expect(html).toContain('<pre><code>{res,rescode}</code></pre>\n<p>0 if command failed, 1 when succedded</p>');
    expect(html).not.toContain('<h3>Examples</h3>');
  });

  test('user-policy commands show user and server first, in the list and the examples', () => {
    const html = section(renderHtml(allCommands, '^get_roster$', ['xmlrpc']), 'get_roster');
    expect(html).toContain(
      '<h3>Arguments</h3>\n<ul>\n' +
        '<li><strong>user</strong> :: <code>binary</code></li>\n' +
        '<li><strong>server</strong> :: <code>binary</code></li>\n</ul>',
    );
    expect(html).toContain(
      '          &lt;member&gt;\n            &lt;name&gt;user&lt;/name&gt;\n            &lt;value&gt;\n' + '              &lt;string&gt;aaaaa&lt;/string&gt;',
    );
    expect(html).toContain('&lt;name&gt;server&lt;/name&gt;');
  });

  test('multi-line result types are kept in a pre block', () => {
    const html = section(renderHtml(allCommands, '^get_roster$', []), 'get_roster');
    expect(html).toContain('<pre><code>{contacts,{list,{contact,{tuple,[{jid,string},\n' + ' '.repeat(33) + '{nick,string},\n');
  });

  test('descriptions and names are escaped', () => {
    const command: Command = {
      ...byName('echo_string'),
      name: 'tricky',
      desc: 'Compare a<b & c>d',
      longdesc: 'Say "hi" to <script>alert(1)</script>',
      argsDesc: ['An <em>argument</em>'],
      resultDesc: "It's & done",
    };
    const page = renderHtml([command], '', ['perl']);
    expect(page).toContain('<h2><code>tricky</code> - Compare a&lt;b &amp; c&gt;d</h2>');
    expect(page).toContain('<p class="longdesc">Say &quot;hi&quot; to &lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(page).toContain('<dd>An &lt;em&gt;argument&lt;/em&gt;</dd>');
    expect(page).toContain('<p>It&#39;s &amp; done</p>');
    expect(page).not.toContain('<script>');
    expectBalanced(page);
  });

  test('the whole reference is well nested and lists every command', () => {
    const page = renderHtml(allCommands, '', ['java', 'perl', 'xmlrpc', 'json']);
    expectBalanced(page);
    expect(page.match(/<section /g)).toHaveLength(156);
    expect(page.match(/<h4>Java<\/h4>/g)).toHaveLength(156);
  });

  test('rejects an unknown language', () => {
    expect(() => renderHtml(allCommands, '', ['perl', 'ruby'])).toThrow(
      expect.objectContaining({ code: 'bad_argument', message: "Unknown example language 'ruby': choose from java, perl, xmlrpc, json" }),
    );
  });
});
