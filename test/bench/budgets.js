'use strict';
/**
 * The performance budgets of DESIGN.md §8, in one place. The benchmarks record what they
 * measured under a budget's id; `report()` prints every budget beside its measure and says
 * which are over, so that `npm run bench` can exit non-zero.
 *
 * A budget is a bound on one number: `ratio` (the measure over a baseline of the same run),
 * or `rate`/`time` (absolute, where no baseline exists). `min` is a floor, `max` a ceiling.
 */
const BUDGETS = [
  { id: 'startup.local', row: 'ctl check_account, no node (vs node -e 0)', on: 'ratio', max: 1.5 },
  { id: 'startup.forwarded', row: 'ctl check_account, forwarded to a node (vs node -e 0)', on: 'ratio', max: 1.3 },
  { id: 'batch.plain.local', row: 'ctl batch, plain registrations, no node', on: 'rate', min: 25_000, unit: '/s' },
  { id: 'batch.plain.node', row: 'ctl batch, plain registrations, through a node', on: 'rate', min: 25_000, unit: '/s' },
  { id: 'batch.scram.local', row: 'ctl batch, SCRAM registrations (vs one-core PBKDF2)', on: 'ratio', min: 1.8 },
  { id: 'http.c1', row: 'HTTP check_account, keep-alive, c=1 (vs bare Node http)', on: 'ratio', min: 0.5 },
  { id: 'http.c4', row: 'HTTP check_account, keep-alive, c=4 (vs bare Node http)', on: 'ratio', min: 0.5 },
  { id: 'http.c16', row: 'HTTP check_account, keep-alive, c=16 (vs bare Node http)', on: 'ratio', min: 0.5 },
  { id: 'http.ejabberd.c1', row: 'HTTP check_account, keep-alive, c=1 (vs ejabberd 23.01, no auth from loopback)', on: 'ratio', min: 2 },
  { id: 'http.ejabberd.c4', row: 'HTTP check_account, keep-alive, c=4 (vs ejabberd 23.01, no auth from loopback)', on: 'ratio', min: 2 },
  { id: 'http.ejabberd.c16', row: 'HTTP check_account, keep-alive, c=16 (vs ejabberd 23.01, no auth from loopback)', on: 'ratio', min: 2 },
  { id: 'piefxis.import', row: 'ctl import_piefxis', on: 'rate', min: 20, unit: ' MB/s' },
  { id: 'restore.memory', row: 'ctl restore, peak memory a 4x larger backup adds (per byte it adds)', on: 'ratio', max: 0.25 },
  { id: 'cluster.throughput', row: 'messages/s between clients on different nodes (vs one node)', on: 'ratio', min: 0.5 },
  { id: 'cluster.p99', row: 'p99 latency between clients on different nodes (vs one node)', on: 'ratio', max: 3 },
  // The lease (2 s in the bench), a sweep (a third of it), and the time to ask.
  { id: 'cluster.cleanup', row: 'kill -9 of a node until its sessions are purged, lease 2 s', on: 'time', max: 4000, unit: ' ms' },
  {
    id: 'listing.100k',
    row: 'ctl registered_users, listing time per 100 000 users (vs iteration)',
    on: 'time',
    max: 200,
    unit: ' ms',
  },
];

/** What was measured, by budget id: `{ value, ratio, rate, time }` (the shown value and the numbers). */
const measured = new Map();

/**
 * Records a measure for a budget. `value` is what the table shows; `ratio` is the ratio to the
 * run's baseline (shown for every row that has one); `rate`/`time` are the absolute numbers.
 */
function record(id, measure) {
  if (!BUDGETS.some((b) => b.id === id)) throw new Error(`no budget named ${id}`);
  measured.set(id, measure);
}

const bound = (b) => `${b.min !== undefined ? '>=' : '<='} ${b.on === 'ratio' ? `${b.min ?? b.max}x` : `${(b.min ?? b.max).toLocaleString('en')}${b.unit}`}`;

/** Prints the table of budgets; returns the number of budgets that were measured and are over. */
function report(out = console.log) {
  const rows = [['measure', 'value', 'ratio', 'budget', 'result']];
  let over = 0;
  for (const b of BUDGETS) {
    const m = measured.get(b.id);
    if (!m) {
      rows.push([b.row, '-', '-', bound(b), 'not measured']);
      continue;
    }
    const x = m[b.on];
    const ok = Number.isFinite(x) && (b.min === undefined || x >= b.min) && (b.max === undefined || x <= b.max);
    if (!ok) over++;
    rows.push([b.row, m.value, m.ratio === undefined ? '-' : `${m.ratio.toFixed(2)}x`, bound(b), ok ? 'pass' : 'FAIL']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  out('\nBudgets (DESIGN.md §8)');
  for (const [i, r] of rows.entries()) {
    out(`  ${r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  ')}`);
    if (i === 0) out(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
  return over;
}

module.exports = { BUDGETS, record, report };
