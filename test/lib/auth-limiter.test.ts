import { authFailureLine, createAuthGuard, quoteUser, type AuthAttempt, type AuthFailureLimit } from '../../src/lib/auth-limiter';

const from = (address: string, user = 'alice@localhost'): AuthAttempt => ({ address, port: 4000, via: 'http', mechanism: 'basic', user });

function guard(limit: AuthFailureLimit | undefined = { failures: 3, window: 60, block: 300 }, maxAddresses?: number) {
  let now = 1_000_000;
  const lines: string[] = [];
  const g = createAuthGuard({ limit: () => limit, warn: (l) => lines.push(l), clock: () => now, maxAddresses });
  return { g, lines, advance: (s: number) => (now += s * 1000), set: (l: AuthFailureLimit | undefined) => (limit = l) };
}

test('after `failures` wrong passwords within the window the address is refused for the block, then let in again', () => {
  const { g, lines, advance } = guard();
  for (let i = 0; i < 3; i++) {
    expect(g.refused(from('192.0.2.7'))).toBeUndefined();
    g.failed(from('192.0.2.7'), 'bad-password');
  }
  expect(lines.at(-1)).toBe('auth blocked: address=192.0.2.7 for 300 s after 3 failed logins within 60 s');
  expect(g.refused(from('192.0.2.7'))).toBe(300);
  expect(lines.at(-1)).toBe('auth failed: address=192.0.2.7 port=4000 via=http mechanism=basic reason=rate-limited user="alice@localhost"');
  // Another address, and the same one once the block is over, try as before.
  expect(g.refused(from('192.0.2.8'))).toBeUndefined();
  advance(299.5);
  expect(g.refused(from('192.0.2.7'))).toBe(1);
  advance(0.5);
  expect(g.refused(from('192.0.2.7'))).toBeUndefined();
  g.failed(from('192.0.2.7'), 'bad-password');
  expect(g.refused(from('192.0.2.7'))).toBeUndefined();
});

test('failures further apart than the window do not add up; bad tokens and malformed requests are logged, not counted', () => {
  const { g, lines, advance } = guard();
  g.failed(from('192.0.2.7'), 'bad-password');
  g.failed(from('192.0.2.7'), 'bad-password');
  advance(61);
  g.failed(from('192.0.2.7'), 'bad-password');
  for (let i = 0; i < 10; i++) g.failed(from('192.0.2.7'), i % 2 ? 'bad-token' : 'malformed');
  expect(g.refused(from('192.0.2.7'))).toBeUndefined();
  expect(lines).toHaveLength(13);
});

test('IPv4 through a dual-stack listener is the same address as IPv4', () => {
  const { g } = guard();
  for (let i = 0; i < 3; i++) g.failed(from('::ffff:192.0.2.7'), 'bad-password');
  expect(g.refused(from('192.0.2.7'))).toBe(300);
  expect(authFailureLine(from('::ffff:192.0.2.7'), 'bad-password')).toMatch(/^auth failed: address=192\.0\.2\.7 /);
});

test('a blocked address that keeps trying is logged at most once a second', () => {
  const { g, lines, advance } = guard();
  for (let i = 0; i < 3; i++) g.failed(from('192.0.2.7'), 'bad-password');
  const before = lines.length;
  for (let i = 0; i < 100; i++) g.refused(from('192.0.2.7'));
  advance(1);
  g.refused(from('192.0.2.7'));
  expect(lines.length - before).toBe(2);
});

test('turned off (or off by a reload), nothing is refused and failures are still logged', () => {
  const { g, lines, set } = guard();
  for (let i = 0; i < 3; i++) g.failed(from('192.0.2.7'), 'bad-password');
  set(undefined);
  expect(g.refused(from('192.0.2.7'))).toBeUndefined();
  g.failed(from('192.0.2.7'), 'bad-password');
  expect(lines.filter((l) => l.startsWith('auth failed:'))).toHaveLength(4);
});

test('the table holds at most maxAddresses: the address whose last failure is oldest is forgotten', () => {
  const { g } = guard({ failures: 2, window: 60, block: 300 }, 3);
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) g.failed(from(a), 'bad-password');
  g.failed(from('10.0.0.1'), 'bad-password');
  expect(g.refused(from('10.0.0.1'))).toBe(300);
  g.failed(from('10.0.0.4'), 'bad-password');
  // 10.0.0.2 was forgotten: its second failure starts a new count. The blocked address, recent, is kept.
  g.failed(from('10.0.0.2'), 'bad-password');
  expect(g.refused(from('10.0.0.2'))).toBeUndefined();
  expect(g.refused(from('10.0.0.1'))).toBe(300);
});

describe('the claimed user name cannot forge a line or a field', () => {
  test.each([
    ['alice@localhost', '"alice@localhost"'],
    ['a b', '"a\\x20b"'],
    [
      'x\n2026-01-01T00:00:00.000Z [warning] auth failed: address=6.6.6.6',
      '"x\\x0a2026-01-01T00:00:00.000Z\\x20[warning]\\x20auth\\x20failed:\\x20address=6.6.6.6"',
    ],
    ['q"\\', '"q\\"\\\\"'],
    ['\r\u0085\u2028\u200b\u202e\ud800', '"\\x0d\\x85\\u{2028}\\u{200b}\\u{202e}\\u{d800}"'],
    ['straße ✓', '"straße\\x20✓"'],
  ])('%j is written %s', (user, written) => {
    expect(quoteUser(user)).toBe(written);
  });

  test('a long name is cut, the cut said after the quote', () => {
    expect(quoteUser('a'.repeat(1000))).toBe(`"${'a'.repeat(256)}"...`);
  });

  test('what the client sends comes after the address, so a filter up to address= reads the node’s words', () => {
    const line = authFailureLine(from('192.0.2.7', 'x address=6.6.6.6 y'), 'bad-password');
    expect(line).toBe('auth failed: address=192.0.2.7 port=4000 via=http mechanism=basic reason=bad-password user="x\\x20address=6.6.6.6\\x20y"');
  });
});
