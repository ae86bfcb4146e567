import { defineCommand } from './support/define';
import { f, list, tuple, string, binary, rescode } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const srgSupport = () => require('./support/srg') as typeof import('./support/srg');

export const srgCommands = [
  defineCommand({
    name: 'srg_create',
    tags: ['shared_roster_group'],
    desc: 'Create a Shared Roster Group',
    longdesc:
      'If you want to specify several group identifiers in the Display argument,\nput  \\ " around the argument and\nseparate the identifiers with \\ \\ n\nFor example:\n  ejabberdctl srg_create group3 localhost name desc \\"group1\\\\ngroup2\\"',
    helpLongdesc:
      "To show several groups to the members (the display argument), separate their identifiers with \\n, for example:\n  ctl srg_create group3 localhost name desc 'group1\\ngroup2'",
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('group', binary), f('host', binary), f('name', binary), f('description', binary), f('display', binary)],
    result: f('res', rescode),
    handler: (args, { services }) => srgSupport().srgCreate(services, args),
  }),
  defineCommand({
    name: 'srg_delete',
    tags: ['shared_roster_group'],
    desc: 'Delete a Shared Roster Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('group', binary), f('host', binary)],
    result: f('res', rescode),
    handler: (args, { services }) => srgSupport().srgDelete(services, args),
  }),
  defineCommand({
    name: 'srg_get_info',
    tags: ['shared_roster_group'],
    desc: 'Get info of a Shared Roster Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('group', binary), f('host', binary)],
    result: f('informations', list(f('information', tuple(f('key', string), f('value', string))))),
    handler: (args, { services }) => srgSupport().srgInfo(services, args),
  }),
  defineCommand({
    name: 'srg_get_members',
    tags: ['shared_roster_group'],
    desc: 'Get members of a Shared Roster Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('group', binary), f('host', binary)],
    result: f('members', list(f('member', string))),
    handler: (args, { services }) => srgSupport().srgMembers(services, args),
  }),
  defineCommand({
    name: 'srg_list',
    tags: ['shared_roster_group'],
    desc: 'List the Shared Roster Groups in Host',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('host', binary)],
    result: f('groups', list(f('id', string))),
    handler: (args, { services }) => srgSupport().srgList(services, args),
  }),
  defineCommand({
    name: 'srg_user_add',
    tags: ['shared_roster_group'],
    desc: 'Add the JID user@host to the Shared Roster Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('group', binary), f('grouphost', binary)],
    result: f('res', rescode),
    handler: (args, { services }) => srgSupport().srgUserAdd(services, args),
  }),
  defineCommand({
    name: 'srg_user_del',
    tags: ['shared_roster_group'],
    desc: 'Delete this JID user@host from the Shared Roster Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('group', binary), f('grouphost', binary)],
    result: f('res', rescode),
    handler: (args, { services }) => srgSupport().srgUserDel(services, args),
  }),
];
