import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelStore } from '../../src/storage/level';
import { createMemoryStore } from '../../src/storage/memory';
import { runRestoreChecks } from './restore-contract';

const root = mkdtempSync(join(tmpdir(), 'ctl-restore-level-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

runRestoreChecks('memory', async () => createMemoryStore());
runRestoreChecks('level', () => openLevelStore(join(root, `db${n++}`)));
