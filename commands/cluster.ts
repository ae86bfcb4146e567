import { defineCommand } from './support/define';
import { f, list, binary, atom, rescode } from '../src/schema/types';
import type { ClusterControl, NodeControl } from '../src/core/context';
import { CommandError } from '../src/lib/errors';

/** The node's cluster; a node whose ctl.yml names no Redis is a cluster of one, which cannot change. */
export function clustered(node: NodeControl): ClusterControl {
  if (node.cluster) return node.cluster;
  throw new CommandError(
    'not_supported',
    `${node.name} serves alone: a cluster keeps its sessions in Redis, so name it in ctl.yml (redis_server, redis_port, redis_db, redis_password_file), share one PostgreSQL database (default_db: sql), and restart the node`,
  );
}

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
    handler: async ({ node: other }, { node, progress }) => {
      progress(await clustered(node).join(other));
      return true;
    },
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
    handler: async ({ node: other }, { node, progress }) => {
      progress(await clustered(node).leave(other));
      return true;
    },
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
    handler: async (_args, { node }) => (node.cluster ? node.cluster.members() : [node.name]),
  }),
];
