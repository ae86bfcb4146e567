import { defineCommand } from './support/define';
import { MAM_PURGE_TYPES } from './support/values';
import { f, integer, binary, rescode } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const mamSupport = () => require('./support/mam') as typeof import('./support/mam');
const offlineSupport = () => require('./support/offline') as typeof import('./support/offline');

export const purgeCommands = [
  defineCommand({
    name: 'delete_expired_messages',
    tags: ['purge'],
    desc: 'Delete expired offline messages from database',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'store',
    args: [],
    result: f('res', rescode),
    handler: (_args, { services }) => offlineSupport().deleteExpiredMessages(services.offline),
  }),
  defineCommand({
    name: 'delete_old_mam_messages',
    tags: ['purge'],
    desc: 'Delete MAM messages older than DAYS',
    longdesc: 'Valid message TYPEs: "chat", "groupchat", "all".',
    module: 'mod_mam',
    policy: 'restricted',
    needs: 'store',
    argValues: { type: MAM_PURGE_TYPES },
    args: [f('type', binary), f('days', integer)],
    result: f('res', rescode),
    handler: ({ type, days }, { services }) => mamSupport().deleteOldMamMessages(services.mam, type, days),
  }),
  defineCommand({
    name: 'delete_old_messages',
    tags: ['purge'],
    desc: 'Delete offline messages older than DAYS',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'store',
    args: [f('days', integer)],
    result: f('res', rescode),
    handler: ({ days }, { services }) => offlineSupport().deleteOldMessages(services.offline, days),
  }),
];
