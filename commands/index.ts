import { isAdminApi, type Command } from '../src/core/command';
import { accountsCommands } from './accounts';
import { apiCommands } from './api';
import { clusterCommands } from './cluster';
import { documentationCommands } from './documentation';
import { mnesiaCommands } from './mnesia';
import { modulesCommands } from './modules';
import { mucCommands } from './muc';
import { purgeCommands } from './purge';
import { rosterCommands } from './roster';
import { serverCommands } from './server';
import { sessionCommands } from './session';
import { srgCommands } from './srg';
import { stanzaCommands } from './stanza';
import { statsCommands } from './stats';
import { testCommands } from './test';
import { vcardCommands } from './vcard';

/** Every command; the registry is built from this list alone. */
export const allCommands: readonly Command[] = [
  ...accountsCommands,
  ...apiCommands,
  ...clusterCommands,
  ...documentationCommands,
  ...mnesiaCommands,
  ...modulesCommands,
  ...mucCommands,
  ...purgeCommands,
  ...rosterCommands,
  ...serverCommands,
  ...sessionCommands,
  ...srgCommands,
  ...stanzaCommands,
  ...statsCommands,
  ...testCommands,
  ...vcardCommands,
];

/** The ejabberd Administration API: every command but ctl's own additions. */
export const adminApiCommands: readonly Command[] = allCommands.filter(isAdminApi);
