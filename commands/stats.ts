import { defineCommand } from './support/define';
import { HOST_STATS, NODE_STATS } from './support/values';
import { f, integer, binary } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const nodeSupport = () => require('./support/node') as typeof import('./support/node');

export const statsCommands = [
  defineCommand({
    name: 'incoming_s2s_number',
    readOnly: true,
    tags: ['stats', 's2s'],
    desc: 'Number of incoming s2s connections on the node',
    note: 'This node has no server-to-server connections yet, so this is always 0.',
    module: 'ejabberd_s2s',
    policy: 'admin',
    needs: 'node',
    args: [],
    result: f('s2s_incoming', integer),
    handler: (_args, { node }) => node.s2sConnections('incoming'),
  }),
  defineCommand({
    name: 'outgoing_s2s_number',
    readOnly: true,
    tags: ['stats', 's2s'],
    desc: 'Number of outgoing s2s connections on the node',
    note: 'This node has no server-to-server connections yet, so this is always 0.',
    module: 'ejabberd_s2s',
    policy: 'admin',
    needs: 'node',
    args: [],
    result: f('s2s_outgoing', integer),
    handler: (_args, { node }) => node.s2sConnections('outgoing'),
  }),
  defineCommand({
    name: 'stats',
    readOnly: true,
    tags: ['stats'],
    desc: 'Get statistical value: registeredusers onlineusers onlineusersnode uptimeseconds processes',
    note: 'processes is the number of resources the node is tracking in its event loop (sockets, timers, pending I/O), the closest thing it has to Erlang processes; onlineusers counts client sessions. registeredusers is read from the database and works without a running node; the others need one (exit 3 without it, so that a monitoring script sees a stopped node rather than a quiet one).',
    module: 'mod_admin_extra',
    policy: 'admin',
    needs: 'store',
    argValues: { name: NODE_STATS },
    args: [f('name', binary)],
    result: f('stat', integer),
    handler: ({ name }, { running, services }) => nodeSupport().statistic(running, services.accounts, name),
  }),
  defineCommand({
    name: 'stats_host',
    readOnly: true,
    tags: ['stats'],
    desc: 'Get statistical value for this host: registeredusers onlineusers',
    note: 'registeredusers works without a running node; onlineusers needs one.',
    module: 'mod_admin_extra',
    policy: 'admin',
    needs: 'store',
    argValues: { name: HOST_STATS },
    args: [f('name', binary), f('host', binary)],
    result: f('stat', integer),
    handler: ({ name, host }, { running, services }) => nodeSupport().statistic(running, services.accounts, name, host),
  }),
];
