import { DEFAULT_MAX_STANZA_SIZE } from '../../src/config/listen';
import { CONFIG_FILE as FILE, failure, parse } from '../helpers/config';

describe('c2s listeners', () => {
  test('without a listen key the node listens for clients on 127.0.0.1:5222, marked implicit', () => {
    expect(parse('hosts: [example.org]\n').c2s).toEqual([
      { port: 5222, ip: '127.0.0.1', starttls: true, starttlsRequired: false, tls: false, maxStanzaSize: DEFAULT_MAX_STANZA_SIZE, implicit: true },
    ]);
    expect(parse('').c2s).toEqual([expect.objectContaining({ port: 5222, implicit: true })]);
  });

  test('an empty listen list means no client listener at all', () => {
    expect(parse('listen: []\n')).toMatchObject({ c2s: [], listeners: [] });
  });

  test("ejabberd.yml's ejabberd_c2s items: defaults, options, and the options this node ignores", () => {
    const config = parse(
      [
        'access_rules:',
        '  c2s:',
        '    allow: all',
        'listen:',
        '  - port: 5222',
        '    module: ejabberd_c2s',
        '    shaper: c2s_shaper',
        '    zlib: false',
        '    protocol_options: [no_sslv3]',
        '  - port: 5223',
        '    ip: "::"',
        '    module: ejabberd_c2s',
        '    tls: true',
        '    max_stanza_size: 65536',
        '    access: c2s',
        '  - port: 0',
        '    module: ejabberd_c2s',
        '    starttls_required: true',
        '    max_stanza_size: infinity',
        '  - port: 5224',
        '    module: ejabberd_c2s',
        '    starttls: false',
        '',
      ].join('\n'),
    );
    expect(config.c2s).toEqual([
      { port: 5222, ip: '127.0.0.1', starttls: true, starttlsRequired: false, tls: false, maxStanzaSize: 262144 },
      { port: 5223, ip: '::', starttls: false, starttlsRequired: false, tls: true, maxStanzaSize: 65536, access: 'c2s' },
      { port: 0, ip: '127.0.0.1', starttls: true, starttlsRequired: true, tls: false, maxStanzaSize: Infinity },
      { port: 5224, ip: '127.0.0.1', starttls: false, starttlsRequired: false, tls: false, maxStanzaSize: 262144 },
    ]);
    expect(config.listeners).toEqual([]);
  });

  test('c2s and HTTP listeners side by side; ejabberd_http_ws serves XMPP over WebSocket on its path', () => {
    const config = parse(
      'listen:\n  - port: 5222\n    module: ejabberd_c2s\n  - port: 5280\n    module: ejabberd_http\n    request_handlers:\n      /api: mod_http_api\n      /ws/: ejabberd_http_ws\n',
    );
    expect(config.c2s).toHaveLength(1);
    expect(config.listeners).toEqual([
      {
        port: 5280,
        ip: '127.0.0.1',
        handlers: new Map([
          ['/api', 'api'],
          ['/ws', 'ws'],
        ]),
        tls: false,
      },
    ]);
  });

  test('an ejabberd_http listener with tls: true is HTTPS', () => {
    const config = parse('listen:\n  - port: 5443\n    module: ejabberd_http\n    tls: true\n    request_handlers:\n      /api: mod_http_api\n');
    expect(config.listeners).toEqual([{ port: 5443, ip: '127.0.0.1', handlers: new Map([['/api', 'api']]), tls: true }]);
  });

  test.each([
    ['  - port: 5222\n    module: ejabberd_c2s\n    starttls: yes please\n', "'listen' item 1: 'starttls' must be true or false"],
    ['  - port: 5222\n    module: ejabberd_c2s\n    tls: 1\n', "'listen' item 1: 'tls' must be true or false"],
    [
      '  - port: 5443\n    module: ejabberd_http\n    tls: "yes"\n    request_handlers:\n      /api: mod_http_api\n',
      "'listen' item 1: 'tls' must be true or false",
    ],
    ['  - port: 5222\n    module: ejabberd_c2s\n    starttls_required: "true"\n', "'listen' item 1: 'starttls_required' must be true or false"],
    ['  - port: 5222\n    module: ejabberd_c2s\n    max_stanza_size: 0\n', "'listen' item 1: 'max_stanza_size' must be a positive number of bytes or infinity"],
    [
      '  - port: 5222\n    module: ejabberd_c2s\n    max_stanza_size: lots\n',
      "'listen' item 1: 'max_stanza_size' must be a positive number of bytes or infinity",
    ],
    ['  - port: 5222\n    module: ejabberd_c2s\n    access: [c2s]\n', "'listen' item 1: 'access' must name an access rule"],
    ['  - port: 5222\n    module: ejabberd_c2s\n  - port: 70000\n    module: ejabberd_c2s\n', "'listen' item 2: 'port' must be a number from 0 to 65535"],
    [
      '  - port: 5280\n    module: ejabberd_http\n    request_handlers:\n      /bosh: mod_bosh\n',
      "'listen' item 1: unknown request handler 'mod_bosh' for /bosh (this node serves mod_http_api, ejabberd_xmlrpc and ejabberd_http_ws)",
    ],
  ])('a bad listener (%j) is an error naming the file, the line and the key', (items, message) => {
    expect(failure(`hosts: [localhost]\nlisten:\n${items}`)).toBe(`Invalid configuration ${FILE} (line 3): ${message}`);
  });
});

describe('certfiles', () => {
  test('paths and globs, relative ones taken from the configuration file’s directory', () => {
    expect(parse('certfiles:\n  - /etc/ssl/xmpp/*.pem\n  - certs/host.pem\n').certfiles).toEqual(['/etc/ssl/xmpp/*.pem', '/etc/ctl/certs/host.pem']);
    expect(parse('certfiles: /etc/ssl/one.pem\n').certfiles).toEqual(['/etc/ssl/one.pem']);
  });

  test('none configured: the list is empty (the node makes its own certificate)', () => {
    expect(parse('hosts: [localhost]\n').certfiles).toEqual([]);
  });

  test.each([['certfiles: 12\n'], ['certfiles: [a.pem, 3]\n'], ['certfiles:\n  - ""\n']])('a bad value (%j) is an error naming the key', (text) => {
    expect(failure(text)).toMatch(/^Invalid configuration \/etc\/ctl\/ctl\.yml \(line \d\): 'certfiles' must be a list of PEM file paths$/);
  });
});
