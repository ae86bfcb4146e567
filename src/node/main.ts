import { allCommands } from '../../commands';
import { createRegistry } from '../core/registry';
import { resolveHome } from '../config/home';
import { runNodeProcess } from './process';

/**
 * The node started in the background by `ctl start`: `node main.js HOME_DIR CONFIG_FILE`.
 * Its standard output and error go to the log file, for what happens before the log opens.
 */
const [dir, config] = process.argv.slice(2);
void runNodeProcess({ home: resolveHome({ home: dir, config }), registry: createRegistry(allCommands) }).then((status) => {
  process.exitCode = status;
});
