import { execFileSync } from 'node:child_process';
import { openFilesLimits, raiseOpenFilesLimit } from '../../src/lib/open-files';

const setSoft = (soft: number, hard: number | 'unlimited') => execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`]);

test('reads the soft and hard open-files limits of this process', () => {
  const limits = openFilesLimits()!;
  expect(limits.soft).toBeGreaterThan(0);
  expect(limits.hard).toBeGreaterThanOrEqual(limits.soft);
});

test('raises a low soft limit to the hard one', () => {
  const { hard } = openFilesLimits()!;
  setSoft(256, hard === Infinity ? 'unlimited' : hard);
  try {
    expect(openFilesLimits()!.soft).toBe(256);
    expect(raiseOpenFilesLimit()).toEqual({ soft: hard, hard });
    expect(openFilesLimits()!.soft).toBe(hard);
  } finally {
    setSoft(hard === Infinity ? 65536 : hard, hard === Infinity ? 'unlimited' : hard);
  }
});
