import { defineCommand } from '../src/schema/command';
import { f, list, tuple, string, binary, rescode } from '../src/schema/types';

export const rosterCommands = [
  defineCommand({
    name: 'add_rosteritem',
    tags: ['roster'],
    desc: 'Add an item to a user\'s roster (supports ODBC)',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('localuser', binary), f('localserver', binary), f('user', binary), f('server', binary), f('nick', binary), f('group', binary), f('subs', binary)],
    result: f('res', rescode),
    handler: ({ localuser, localserver, user, server, nick, group, subs }, { services }) =>
      services.roster.add(localuser, localserver, user, server, nick, group, subs),
  }),
  defineCommand({
    name: 'delete_rosteritem',
    tags: ['roster'],
    desc: 'Delete an item from a user\'s roster (supports ODBC)',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('localuser', binary), f('localserver', binary), f('user', binary), f('server', binary)],
    result: f('res', rescode),
    handler: ({ localuser, localserver, user, server }, { services }) => services.roster.delete(localuser, localserver, user, server),
  }),
  defineCommand({
    name: 'get_roster',
    tags: ['roster'],
    desc: 'Get roster of a local user',
    module: 'mod_admin_extra',
    policy: 'user',
    needs: 'store',
    args: [],
    result: f('contacts', list(f('contact', tuple(f('jid', string), f('nick', string), f('subscription', string), f('ask', string), f('group', string))))),
    handler: (args, { services }) => {
      // policy: 'user' puts the account before the declared arguments.
      const { user, server } = args as unknown as { user: string; server: string };
      return services.roster.get(user, server);
    },
  }),
  defineCommand({
    name: 'process_rosteritems',
    tags: ['roster'],
    desc: 'List or delete rosteritems that match filtering options',
    longdesc: 'Explanation of each argument:\n - action: what to do with each rosteritem that matches all the filtering options\n - subs: subscription type\n - asks: pending subscription\n - users: the JIDs of the local user\n - contacts: the JIDs of the contact in the roster\n\nAllowed values in the arguments:\n  ACTION = list | delete\n  SUBS = SUB[:SUB]* | any\n  SUB = none | from | to | both\n  ASKS = ASK[:ASK]* | any\n  ASK = none | out | in\n  USERS = JID[:JID]* | any\n  CONTACTS = JID[:JID]* | any\n  JID = characters valid in a JID, and can use the globs: *, ?, ! and [...]\n\nThis example will list roster items with subscription \'none\', \'from\' or \'to\' that have any ask property, of local users which JID is in the virtual host \'example.org\' and that the contact JID is either a bare server name (without user part) or that has a user part and the server part contains the word \'icq\':\n  list none:from:to any *@example.org *:*@*icq*',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('action', string), f('subs', string), f('asks', string), f('users', string), f('contacts', string)],
    result: f('response', list(f('pairs', tuple(f('user', string), f('contact', string))))),
    handler: ({ action, subs, asks, users, contacts }, { services, progress }) =>
      services.roster.process(action, subs, asks, users, contacts, progress),
  }),
  defineCommand({
    name: 'push_alltoall',
    tags: ['roster'],
    desc: 'Add all the users to all the users of Host in Group',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('host', binary), f('group', binary)],
    result: f('res', rescode),
    handler: ({ host, group }, { services }) => services.roster.pushAllToAll(host, group),
  }),
  defineCommand({
    name: 'push_roster',
    tags: ['roster'],
    desc: 'Push template roster from file to a user',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('file', binary), f('user', binary), f('host', binary)],
    result: f('res', rescode),
    paths: ['file'],
    handler: ({ file, user, host }, { services }) => services.roster.pushFile(file, user, host),
  }),
  defineCommand({
    name: 'push_roster_all',
    tags: ['roster'],
    desc: 'Push template roster from file to all those users',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('file', binary)],
    result: f('res', rescode),
    paths: ['file'],
    handler: ({ file }, { services }) => services.roster.pushFileAll(file),
  }),
];
