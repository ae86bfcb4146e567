import { defineCommand } from './support/define';
import { f, list, binary, atom, rescode } from '../src/schema/types';

export const clusterCommands = [
  defineCommand({
    name: 'join_cluster',
    tags: ['cluster'],
    desc: 'Join this node into the cluster handled by Node',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [f('node', binary)],
    result: f('res', rescode),
  }),
  defineCommand({
    name: 'leave_cluster',
    tags: ['cluster'],
    desc: 'Remove node handled by Node from the cluster',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [f('node', binary)],
    result: f('res', rescode),
  }),
  defineCommand({
    name: 'list_cluster',
    readOnly: true,
    tags: ['cluster'],
    desc: 'List nodes that are part of the cluster handled by Node',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('nodes', list(f('node', atom))),
    handler: (_args, { node }) => [node.name],
  }),
];
