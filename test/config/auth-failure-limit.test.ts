import { parseConfig } from '../../src/config/config';

const FILE = '/etc/ctl/ctl.yml';
const parse = (text: string) => parseConfig(text, FILE);

test('on by default; false turns it off; keys left out keep their defaults', () => {
  expect(parse('').authFailureLimit).toEqual({ failures: 5, window: 60, block: 300 });
  expect(parse('auth_failure_limit: false\n').authFailureLimit).toBeUndefined();
  expect(parse('auth_failure_limit: true\n').authFailureLimit).toEqual({ failures: 5, window: 60, block: 300 });
  expect(parse('auth_failure_limit: {failures: 3, block: 1.5}\n').authFailureLimit).toEqual({ failures: 3, window: 60, block: 1.5 });
});

test.each([
  [
    'auth_failure_limit: 5',
    "'auth_failure_limit' must be false or a mapping of failures, window and block (seconds), e.g. {failures: 5, window: 60, block: 300}",
  ],
  ['auth_failure_limit: {tries: 5}', "'auth_failure_limit': unknown key 'tries' (it takes failures, window and block)"],
  ['auth_failure_limit: {failures: 2.5}', "'auth_failure_limit: failures' must be a whole number of failed logins above 0 (at most 31536000), got 2.5"],
  ['auth_failure_limit: {block: 0}', "'auth_failure_limit: block' must be a number of seconds above 0 (at most 31536000), got 0"],
  ['auth_failure_limit: {window: "60"}', `'auth_failure_limit: window' must be a number of seconds above 0 (at most 31536000), got "60"`],
])('%s is refused, naming the key and the line', (line, message) => {
  expect(() => parse(`hosts: [localhost]\n${line}\n`)).toThrow(`Invalid configuration ${FILE} (line 2): ${message}`);
});
