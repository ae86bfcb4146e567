import { defineCommand } from '../src/schema/command';
import { f, integer, binary } from '../src/schema/types';

export const statsCommands = [
  defineCommand({
    name: 'incoming_s2s_number',
    tags: ['stats', 's2s'],
    desc: 'Number of incoming s2s connections on the node',
    module: 'ejabberd_s2s',
    policy: 'admin',
    needs: 'node',
    args: [],
    result: f('s2s_incoming', integer),
  }),
  defineCommand({
    name: 'outgoing_s2s_number',
    tags: ['stats', 's2s'],
    desc: 'Number of outgoing s2s connections on the node',
    module: 'ejabberd_s2s',
    policy: 'admin',
    needs: 'node',
    args: [],
    result: f('s2s_outgoing', integer),
  }),
  defineCommand({
    name: 'stats',
    tags: ['stats'],
    desc: 'Get statistical value: registeredusers onlineusers onlineusersnode uptimeseconds processes',
    module: 'mod_admin_extra',
    policy: 'admin',
    needs: 'node',
    args: [f('name', binary)],
    result: f('stat', integer),
  }),
  defineCommand({
    name: 'stats_host',
    tags: ['stats'],
    desc: 'Get statistical value for this host: registeredusers onlineusers',
    module: 'mod_admin_extra',
    policy: 'admin',
    needs: 'node',
    args: [f('name', binary), f('host', binary)],
    result: f('stat', integer),
  }),
];
