import { defineCommand } from './support/define';
import { f, list, tuple, integer, string, binary, atom } from '../src/schema/types';
import { CommandError } from '../src/lib/errors';

const WITHOUT_NODE = 'Without a node it works on the files of the home (HOME/modules); the node loads what is installed when it starts.';
const OVER_HTTP = "Over HTTP and XML-RPC it is refused unless ctl.yml says 'ext_modules: http_api: true'.";

export const modulesCommands = [
  defineCommand({
    name: 'module_check',
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'Check that the extension MODULE of the module sources is complete and installable',
    helpLongdesc:
      'Builds the module, checks its module.yml and its declarations, and runs its setup in isolation (its tables in memory, no sessions), installing nothing. Prints 0 when it is sound; otherwise exits 1 and says what is wrong.',
    note: OVER_HTTP,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [f('module', binary)],
    result: f('res', integer),
    handler: async ({ module }, { extensions, summary }) => {
      const checked = await extensions.check(module);
      if (checked.problems.length > 0) throw new CommandError('failed', checked.problems.join('; '));
      summary(`${module} ${checked.version} is sound${checked.declares.length > 0 ? `: ${checked.declares.join(', ')}` : ''}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'module_install',
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'Install the extension MODULE from the module sources and load it into the running node',
    helpLongdesc: 'Copies the module to HOME/modules/MODULE, builds and checks it, then loads it into the running node. Prints 0.',
    note: `${WITHOUT_NODE} ${OVER_HTTP}`,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [f('module', binary)],
    result: f('res', integer),
    handler: async ({ module }, { extensions, summary }) => {
      const m = await extensions.install(module);
      summary(`Installed ${m.name} ${m.version}${extensions.live ? ', loaded into the node' : '; the node loads it when it starts'}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'module_uninstall',
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'Unload the extension MODULE from the running node and remove it',
    helpLongdesc: 'Its commands and handlers go at once; its tables stay in the database, for a later install. Prints 0.',
    note: `${WITHOUT_NODE} ${OVER_HTTP}`,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [f('module', binary)],
    result: f('res', integer),
    handler: async ({ module }, { extensions, summary }) => {
      const m = await extensions.uninstall(module);
      summary(`Uninstalled ${m.name} ${m.version}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'module_upgrade',
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'Reinstall the extension MODULE from the module sources and reload it without a restart',
    helpLongdesc:
      "Installs the sources' newer version over the installed one and reloads it in the running node; when the new version fails to build, check or load, the old one stays installed and running. Prints 0.",
    note: `${WITHOUT_NODE} ${OVER_HTTP}`,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [f('module', binary)],
    result: f('res', integer),
    handler: async ({ module }, { extensions, summary }) => {
      const { from, to } = await extensions.upgrade(module);
      summary(`Upgraded ${module} from ${from} to ${to}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'modules_available',
    readOnly: true,
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'List the extensions the module sources offer: name and summary',
    note: OVER_HTTP,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [],
    result: f('modules', list(f('module', tuple(f('name', atom), f('summary', string))))),
    handler: async (_args, { extensions }) => (await extensions.available()).map(({ name, summary }) => ({ name, summary })),
  }),
  defineCommand({
    name: 'modules_installed',
    readOnly: true,
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'List the extensions installed on this node: name and summary',
    note: OVER_HTTP,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [],
    result: f('modules', list(f('module', tuple(f('name', atom), f('summary', string))))),
    handler: async (_args, { extensions }) => (await extensions.installed()).map(({ name, summary }) => ({ name, summary })),
  }),
  defineCommand({
    name: 'modules_update_specs',
    tags: ['admin', 'modules'],
    desc: '',
    helpDesc: 'Fetch the module sources again, to see their new extensions and versions',
    helpLongdesc: 'Pulls each git source (cloning it under HOME/module_sources the first time) and reads each directory again. Prints 0.',
    note: OVER_HTTP,
    module: 'ext_mod',
    policy: 'restricted',
    needs: 'none',
    managesCode: true,
    args: [],
    result: f('res', integer),
    handler: async (_args, { extensions, summary }) => {
      for (const line of await extensions.updateSources()) summary(line);
      return 0;
    },
  }),
];
