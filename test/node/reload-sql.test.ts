import { parseConfig } from '../../src/config/config';
import { configChanges } from '../../src/node/reload';

const FILE = '/etc/ctl/ctl.yml';
const started = { nodeName: 'ctl@localhost', socketGroup: undefined };
const texts = (from: string, to: string) => configChanges(parseConfig(from, FILE), parseConfig(to, FILE), started).map((c) => c.text);

test('reload_config says a changed database takes effect with ctl restart', () => {
  const pg = 'default_db: sql\nsql_server: db.example.org\n';
  expect(texts('', pg)).toEqual(['Not applied: default_db, sql_*: the database changes with ctl restart']);
  expect(texts(pg, `${pg}sql_port: 6432\n`)).toEqual(['Not applied: default_db, sql_*: the database changes with ctl restart']);
  expect(texts(pg, pg)).toEqual([]);
});
