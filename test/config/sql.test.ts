import { parseConfig } from '../../src/config/config';

const FILE = '/etc/ctl/ctl.yml';
const parse = (text: string) => parseConfig(text, FILE);

test('default_db: sql names a PostgreSQL database, with ejabberd defaults for what is left out', () => {
  expect(parse('').sql).toBeUndefined();
  expect(parse('default_db: mnesia\n').sql).toBeUndefined();
  expect(parse('default_db: sql\n').sql).toEqual({ type: 'pgsql', server: 'localhost', port: 5432, database: 'ejabberd', username: 'ejabberd', poolSize: 10 });
  expect(
    parse(
      'default_db: sql\nsql_type: pgsql\nsql_server: db.example.org\nsql_port: 6432\nsql_database: xmpp\nsql_username: ctl\nsql_password: s3cret\nsql_pool_size: 4\n',
    ).sql,
  ).toEqual({ type: 'pgsql', server: 'db.example.org', port: 6432, database: 'xmpp', username: 'ctl', password: 's3cret', poolSize: 4 });
  expect(parse('default_db: sql\nsql_password_file: secrets/pg\n').sql).toMatchObject({ passwordFile: '/etc/ctl/secrets/pg' });
});

test.each([
  ['sql_type: mysql', "'sql_type' must be pgsql: ctl keeps its data in PostgreSQL only (not mysql)"],
  ['sql_port: 99999', "'sql_port' must be a whole number from 1 to 65535, got 99999"],
  ['sql_port: "5432"', `'sql_port' must be a whole number from 1 to 65535, got "5432"`],
  ['sql_pool_size: 0', "'sql_pool_size' must be a whole number from 1 to 1000, got 0"],
  ['sql_server: ""', "'sql_server' must be a non-empty string"],
  ['sql_database: [a]', "'sql_database' must be a non-empty string"],
  ['sql_password_file: pw\nsql_password: x', "'sql_password_file' and 'sql_password' say the same thing: keep one"],
])('%s is refused, naming the key and the line', (lines, message) => {
  expect(() => parse(`default_db: sql\n${lines}\n`)).toThrow(`Invalid configuration ${FILE} (line 2): ${message}`);
});

test('default_db other than sql or mnesia is refused, naming the key and the line', () => {
  expect(() => parse('hosts: [localhost]\ndefault_db: odbc\n')).toThrow(
    `Invalid configuration ${FILE} (line 2): 'default_db' must be sql (a PostgreSQL database, named by the sql_* options) or mnesia (the node's own database, the default)`,
  );
});

test('an sql_* option without default_db: sql is refused, as it would do nothing', () => {
  expect(() => parse('hosts: [localhost]\nsql_server: db.example.org\n')).toThrow(
    `Invalid configuration ${FILE} (line 2): 'sql_server' is used only with 'default_db: sql', which this file does not say`,
  );
});
