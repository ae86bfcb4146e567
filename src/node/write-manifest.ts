import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandFiles } from '../../commands/files';
import { MANIFEST_FILE, type Manifest } from './manifest';

/**
 * `npm run build` ends with this: the file of commands/ that declares each command, so that one
 * call of the command line loads that file alone instead of every declaration.
 */
const dir = join(__dirname, '../../commands');
const unlisted = readdirSync(dir).filter(
  (f) => f.endsWith('.js') && f !== 'index.js' && f !== 'files.js' && !Object.hasOwn(commandFiles, f.slice(0, -'.js'.length)),
);
if (unlisted.length > 0) throw new Error(`commands/files.ts does not list ${unlisted.join(', ')}`);
const files: Record<string, string> = {};
for (const [file, load] of Object.entries(commandFiles)) for (const command of load()) files[command.name] = file;
const manifest: Manifest = { commands: files };
writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest)}\n`);
