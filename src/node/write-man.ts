import { writeFileSync } from 'node:fs';
import { allCommands } from '../../commands';
import { createRegistry } from '../core/registry';
import { BUILTINS, GLOBAL_OPTIONS } from '../transports/cli/argv';
import { renderMan } from '../docs/man';

/** `npm run man`: regenerates man/ctl.1 from the registry. */
const version = (require('../../../package.json') as { version: string }).version;
writeFileSync(process.argv[2] ?? 'man/ctl.1', renderMan(createRegistry(allCommands), GLOBAL_OPTIONS, BUILTINS, version));
