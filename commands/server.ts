import { defineCommand } from './support/define';
import { f, list, tuple, integer, string, atom, rescode, restuple } from '../src/schema/types';
import { LOG_LEVELS } from '../src/config/config';

// Loaded when a command of this file first runs: listing the commands must not load them.
const nodeSupport = () => require('./support/node') as typeof import('./support/node');

export const serverCommands = [
  defineCommand({
    name: 'compile',
    tags: ['erlang'],
    desc: 'Recompile and reload Erlang source code file',
    helpDesc: 'Build the extension module that FILE belongs to and reload it in the running node',
    helpLongdesc:
      'FILE is a file of an installed module (HOME/modules/NAME/...). Its module is built and reloaded as update does; when it fails, the version that ran keeps running and the error says why.',
    note: "Over HTTP and XML-RPC it is refused unless ctl.yml says 'ext_modules: http_api: true'.",
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'node',
    managesCode: true,
    args: [f('file', string)],
    result: f('res', rescode),
    paths: ['file'],
    handler: async ({ file }, { extensions, summary }) => {
      summary(`Reloaded ${await extensions.compile(file)}`);
      return true;
    },
  }),
  defineCommand({
    name: 'convert_to_yaml',
    tags: ['config'],
    desc: 'Convert the input file from Erlang to YAML format',
    module: 'ejabberd_config',
    policy: 'restricted',
    needs: 'none',
    args: [f('in', string), f('out', string)],
    result: f('res', rescode),
    paths: ['in', 'out'],
    handler: async ({ in: input, out }) => {
      const { convertToYaml } = await import('../src/migrate/yaml-config');
      return convertToYaml(input, out);
    },
  }),
  defineCommand({
    name: 'get_cookie',
    readOnly: true,
    tags: ['erlang'],
    desc: 'Get the Erlang cookie of this node',
    note: 'The node secret, created on the first start in HOME/cookie (mode 0600).',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('cookie', string),
    handler: (_args, { node }) => node.cookie,
  }),
  defineCommand({
    name: 'get_loglevel',
    readOnly: true,
    tags: ['logs', 'server'],
    desc: 'Get the current loglevel',
    module: 'ejabberd_logger',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('leveltuple', tuple(f('levelnumber', integer), f('levelatom', atom), f('leveldesc', string))),
    handler: (_args, { node }) => nodeSupport().loglevelTuple(node.loglevel()),
  }),
  defineCommand({
    name: 'registered_vhosts',
    readOnly: true,
    tags: ['server'],
    desc: 'List all registered vhosts in SERVER',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'none',
    args: [],
    result: f('vhosts', list(f('vhost', string))),
    handler: (_args, { config }) => [...config.hosts],
  }),
  defineCommand({
    name: 'reload_config',
    tags: ['server'],
    desc: 'Reload config file in memory (only affects ACL and Access)',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('res', rescode),
    note: "Applies the whole file: hosts, log level, ACL and access rules, certificates, mod_muc's options, and listen (client and HTTP listeners are opened and closed; unchanged ones keep serving). What it applied, and what waits for the node's next start (node_name, ctl_socket_group), is reported on standard error and in the log.",
    handler: async (_args, { node, progress }) => {
      await node.reloadConfig(progress);
      return true;
    },
  }),
  defineCommand({
    name: 'remove_node',
    tags: ['erlang'],
    desc: 'Remove an ejabberd node from Mnesia clustering config',
    helpDesc: 'Remove a node from the cluster this node belongs to',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'node',
    args: [f('node', string)],
    result: f('res', rescode),
    handler: async ({ node: other }, { node, progress }) => {
      const { clustered } = require('./cluster') as typeof import('./cluster');
      progress(await clustered(node).remove(other));
      return true;
    },
  }),
  defineCommand({
    name: 'reopen_log',
    tags: ['logs', 'server'],
    desc: 'Reopen the log files',
    module: 'ejabberd_admin',
    policy: 'admin',
    needs: 'node',
    args: [],
    result: f('res', rescode),
    handler: async (_args, { node }) => {
      await node.reopenLog();
      return true;
    },
  }),
  defineCommand({
    name: 'restart',
    tags: ['server'],
    desc: 'Restart ejabberd gracefully',
    helpDesc: 'Restart the node gracefully',
    note: 'Re-reads the configuration and reopens the database and the log in the same process; an invalid configuration leaves the node running as it was.',
    module: 'init',
    policy: 'restricted',
    needs: 'node',
    lifecycle: true,
    args: [],
    result: f('res', rescode),
    handler: async (_args, { node }) => {
      await node.restart();
      return true;
    },
  }),
  defineCommand({
    name: 'rotate_log',
    tags: ['logs', 'server'],
    desc: 'Rotate the log files',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('res', rescode),
    handler: async (_args, { node }) => {
      await node.rotateLog();
      return true;
    },
  }),
  defineCommand({
    name: 'set_loglevel',
    tags: ['logs', 'server'],
    desc: 'Set the loglevel (0 to 5)',
    note: "Takes 0 to 5 or the level's name as ctl.yml's loglevel does (none, critical, error, warning, info, debug), and answers the name of the new level.",
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    argValues: { loglevel: () => (require('../src/config/config') as typeof import('../src/config/config')).LOG_LEVELS.map((name, i) => `${i} (${name})`) },
    args: [{ ...f('loglevel', integer), names: LOG_LEVELS }],
    result: f('logger', atom),
    handler: ({ loglevel }, { node }) => nodeSupport().setLoglevel(node, loglevel),
  }),
  defineCommand({
    name: 'status',
    readOnly: true,
    tags: ['server'],
    desc: 'Get status of the ejabberd server',
    helpDesc: 'Get status of the node',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    args: [],
    result: f('res', restuple),
    handler: (_args, { node }) => nodeSupport().statusText(node),
  }),
  defineCommand({
    name: 'stop',
    tags: ['server'],
    desc: 'Stop ejabberd gracefully',
    helpDesc: 'Stop the node gracefully',
    module: 'init',
    policy: 'restricted',
    needs: 'node',
    lifecycle: true,
    args: [],
    result: f('res', rescode),
    handler: async (_args, { node }) => {
      await node.stop();
      return true;
    },
  }),
  defineCommand({
    name: 'stop_kindly',
    tags: ['server'],
    desc: 'Inform users and rooms, wait, and stop the server',
    longdesc: 'Provide the delay in seconds, and the announcement quoted, for example: \nejabberdctl stop_kindly 60 \\"The server will stop in one minute.\\"',
    helpLongdesc: "Provide the delay in seconds, and the announcement quoted, for example:\n  ctl stop_kindly 60 'The server will stop in one minute.'",
    note: 'The steps are reported on standard error as they happen.',
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    lifecycle: true,
    args: [f('delay', integer), f('announcement', string)],
    result: f('res', rescode),
    handler: ({ delay, announcement }, { node, progress }) => nodeSupport().stopKindly(node, delay, announcement, progress),
  }),
  defineCommand({
    name: 'update',
    tags: ['server'],
    desc: 'Update the given module, or use the keyword: all',
    helpDesc: 'Reload the extension MODULE from its installed files, or every changed one with: all',
    helpLongdesc:
      "Builds the module again from HOME/modules/MODULE, sets the new code up, then takes the old one's commands and handlers away, in one step: sessions, rooms and commands under way are not disturbed. A module that fails to build or load leaves its running version in place, and the error says why.",
    note: "Over HTTP and XML-RPC it is refused unless ctl.yml says 'ext_modules: http_api: true'.",
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    managesCode: true,
    args: [f('module', string)],
    result: f('res', restuple),
    handler: async ({ module }, { extensions }) => {
      const done = await extensions.reload(module);
      return done.length > 0 ? `Reloaded ${done.join(', ')}` : 'No module changed since it was loaded';
    },
  }),
  defineCommand({
    name: 'update_list',
    tags: ['server'],
    desc: 'List modified modules that can be updated',
    helpDesc: 'List the installed extension modules whose files changed since the node loaded them',
    note: "Over HTTP and XML-RPC it is refused unless ctl.yml says 'ext_modules: http_api: true'.",
    module: 'ejabberd_admin',
    policy: 'restricted',
    needs: 'node',
    managesCode: true,
    readOnly: true,
    args: [],
    result: f('modules', list(f('module', string))),
    handler: async (_args, { extensions }) => [...(await extensions.changed())],
  }),
];
