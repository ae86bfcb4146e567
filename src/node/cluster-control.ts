/**
 * The node's cluster, for the node and its commands: made from ctl.yml's Redis options, and
 * answering list_cluster, join_cluster, leave_cluster and remove_node.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Cluster, ClusterLogger } from '../cluster/cluster';
import type { Config } from '../config/config';
import type { Home } from '../config/home';
import type { RedisConfig } from '../config/redis';
import type { ClusterControl } from '../core/context';
import type { ClusterLink } from '../xmpp/cluster-link';

/** What names a node's database: the nodes of one cluster must name the same. */
export function databaseName(config: Config, home: Home): string {
  const sql = config.sql;
  if (sql) return `PostgreSQL database ${sql.database} at ${sql.server}:${sql.port}`;
  return `LevelDB ${home.dbDir} on ${hostname()}`;
}

export async function createCluster(redis: RedisConfig, config: Config, home: Home, logger: ClusterLogger): Promise<Cluster> {
  const { Cluster } = await import('../cluster/cluster');
  return new Cluster({ redis, nodeName: config.nodeName, stateFile: join(home.dir, 'cluster.json'), database: databaseName(config, home), logger });
}

export function clusterControl(cluster: Cluster, link: () => ClusterLink | undefined): ClusterControl {
  return {
    members: () => cluster.alive(),
    join: (node) => cluster.join(node, () => link()?.localSessions() ?? 0),
    async leave(node) {
      const from = cluster.name;
      if (node !== cluster.node) {
        await cluster.drain(node);
        return `${node} left cluster ${from}: its clients were disconnected (system-shutdown) and its sessions removed; it now serves alone`;
      }
      const n = (await link()?.leave(cluster.node)) ?? 0;
      return `${node} left cluster ${from}: ${n} client(s) disconnected (system-shutdown); it now serves alone`;
    },
    async remove(node) {
      const n = await cluster.remove(node);
      return `Removed ${node} from cluster ${cluster.name}: ${n} session(s) it left were purged`;
    },
    status() {
      const s = cluster.status();
      if (s.connected) return `It is a node of cluster ${s.cluster}, whose Redis at ${s.redis} answers`;
      const since = s.lostSince === undefined ? '' : ` since ${new Date(s.lostSince).toISOString()}`;
      return `It is a node of cluster ${s.cluster}, but Redis at ${s.redis} is unreachable${since}: it serves its own clients alone until Redis is back`;
    },
  };
}
