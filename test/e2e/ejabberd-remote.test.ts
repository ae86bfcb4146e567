/**
 * `ctl --url` against the real ejabberd Debian ships: each row runs once through ejabberdctl and
 * once through ctl's JSON API client, on data of its own (users e1, e2 for ejabberdctl, c1, c2
 * for ctl, so that writes can be compared too), and both must print the same bytes on standard
 * output and exit with the same status. Rows marked `shared` read what both sides see alike.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { ejabberdVersion, startEjabberd, type Ejabberd } from '../helpers/ejabberd';
import { ensureBuilt } from '../helpers/proc';

const VERSION = ejabberdVersion();

interface Row {
  /** Words with `{a}`, `{b}` (two users) and `{g}` (a group), filled in for each side; `{sp}` is a space within a word. */
  readonly args: string;
  /** The same words for both sides: what they read is the same for both (all users, stats). */
  readonly shared?: boolean;
  /**
   * ejabberdctl prints its error messages on standard output, ctl on standard error: only the
   * exit status is compared, and ctl's standard output must be empty.
   */
  readonly error?: true;
  /** Where ejabberdctl's own text and its HTTP answer differ: what each prints, and why. */
  readonly differs?: { readonly ejabberdctl: string; readonly ctl: string; readonly why: string };
}

const ROWS: readonly Row[] = [
  // accounts
  { args: 'register {a} localhost pw' },
  { args: 'register {b} localhost pw' },
  { args: 'register {a} localhost pw', error: true },
  { args: 'check_account {a} localhost' },
  { args: 'check_account nobody localhost', error: true },
  { args: 'check_password {a} localhost pw' },
  { args: 'check_password {a} localhost wrong', error: true },
  { args: 'change_password {a} localhost pw2' },
  { args: 'check_password {a} localhost pw2' },
  { args: 'change_password nobody localhost pw', error: true },
  { args: 'registered_users localhost', shared: true },
  { args: 'registered_vhosts', shared: true },
  { args: 'register x nohost pw', error: true },
  { args: 'set_last {a} localhost 1700000000 away' },
  { args: 'get_last {a} localhost' },
  // roster
  { args: 'add_rosteritem {a} localhost {b} localhost Bee Friends both' },
  { args: 'add_rosteritem {b} localhost {a} localhost Ay Work to' },
  { args: 'get_roster {a} localhost' },
  { args: 'get_roster {b} localhost' },
  { args: 'delete_rosteritem {a} localhost nobody localhost' },
  { args: 'delete_rosteritem {a} localhost {b} localhost' },
  { args: 'delete_rosteritem {a} localhost {b} localhost' },
  { args: 'get_roster {a} localhost' },
  // vCard
  { args: 'set_vcard {a} localhost FN Ay_Full' },
  { args: 'get_vcard {a} localhost FN' },
  { args: 'get_vcard {b} localhost FN', error: true },
  { args: 'set_vcard2 {a} localhost N FAMILY Smith' },
  { args: 'get_vcard2 {a} localhost N FAMILY' },
  { args: 'set_nickname {a} localhost Nick' },
  { args: 'get_vcard {a} localhost NICKNAME' },
  // offline and private storage
  { args: 'get_offline_count {a} localhost' },
  { args: 'private_set {a} localhost <note{sp}xmlns="x:notes">hi</note>' },
  { args: 'private_get {a} localhost note x:notes' },
  { args: 'private_get {a} localhost other x:other' },
  // shared roster groups
  { args: 'srg_create {g} localhost Label Desc {g}' },
  { args: 'srg_list localhost', shared: true },
  {
    args: 'srg_get_info {g} localhost',
    differs: {
      ejabberdctl: 'label\tLabel\ndisplayed_groups\t["{g}"]\ndescription\tDesc\n',
      ctl: 'label\tLabel\ndisplayed_groups\t{g}\ndescription\tDesc\n',
      why: 'ejabberdctl prints the list of displayed groups as an Erlang term; the HTTP API joins it',
    },
  },
  { args: 'srg_user_add {a} localhost {g} localhost' },
  { args: 'srg_get_members {g} localhost' },
  { args: 'srg_user_del nobody localhost {g} localhost' },
  { args: 'srg_user_del {b} localhost {g} localhost' },
  { args: 'srg_user_del {a} localhost {g} localhost' },
  { args: 'srg_get_members {g} localhost' },
  { args: 'srg_delete {g} localhost' },
  { args: 'srg_delete {g} localhost' },
  { args: 'srg_delete nogroup localhost' },
  // stats and sessions (nobody is connected)
  { args: 'stats registeredusers', shared: true },
  { args: 'stats onlineusers', shared: true },
  { args: 'stats_host registeredusers localhost', shared: true },
  { args: 'connected_users', shared: true },
  { args: 'connected_users_number', shared: true },
  { args: 'connected_users_info', shared: true },
  { args: 'user_resources {a} localhost' },
  { args: 'num_resources {a} localhost' },
  { args: 'user_sessions_info {a} localhost' },
  { args: 'kick_user {a} localhost' },
  { args: 'get_loglevel', shared: true },
  {
    args: 'status',
    shared: true,
    differs: {
      ejabberdctl: 'The node {node} is started with status: started\nejabberd {version} is running in that node\n',
      ctl: 'The node {node} is started. Status: startedejabberd {version} is running in that node\n',
      why: "ejabberdctl answers status itself; the HTTP API's status command joins the two lines without a newline",
    },
  },
  // deleting what is not there succeeds, silently
  { args: 'unregister nobody localhost' },
  { args: 'unregister {a} localhost' },
  { args: 'unregister {a} localhost' },
  { args: 'check_account {a} localhost', error: true },
];

const fill = (args: string, side: 'e' | 'c') =>
  args
    .replace(/\{a\}/g, `${side}1`)
    .replace(/\{b\}/g, `${side}2`)
    .replace(/\{g\}/g, `${side}group`)
    .split(' ')
    .map((word) => word.replace(/\{sp\}/g, ' '));

describe(`ctl --url against ejabberd ${VERSION}`, () => {
  let ej: Ejabberd;
  let passwordFile: string;
  let node = '';
  let version = '';

  beforeAll(async () => {
    ensureBuilt();
    ej = await startEjabberd();
    passwordFile = join(ej.dir, 'admin.pw');
    writeFileSync(passwordFile, `${ej.admin.password}\n`);
    const status = await ej.ejabberdctl(['status']);
    node = /The node (\S+) is/.exec(status.stdout)![1];
    version = /ejabberd (\S+) is running/.exec(status.stdout)![1];
  }, 120_000);

  afterAll(() => ej?.stop(), 60_000);

  const remote = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['--url', ej.url, '--user', ej.admin.jid, '--password-file', passwordFile, ...args], { env });

  test(`the server runs ejabberd ${VERSION}`, () => {
    expect(version.startsWith(VERSION)).toBe(true);
  });

  test(`account, roster, vCard, offline, private, shared roster, stats and session commands print what ejabberdctl ${VERSION} prints`, async () => {
    const seen: string[] = [];
    const want: string[] = [];
    for (const row of ROWS) {
      const [e, c] = row.shared ? [fill(row.args, 'e'), fill(row.args, 'e')] : [fill(row.args, 'e'), fill(row.args, 'c')];
      const [byEjabberdctl, byCtl] = await Promise.all([ej.ejabberdctl(e), remote(c)]);
      const sub = (text: string, side: 'e' | 'c') =>
        text
          .replace(/\{g\}/g, `${side}group`)
          .replace(/\{node\}/g, node)
          .replace(/\{version\}/g, version);
      // Compared as one list, so that a failure shows every row that differs at once.
      const mine = row.shared ? byCtl.stdout : byCtl.stdout.replace(/\bc(1|2|group)\b/g, 'e$1');
      seen.push(`${row.args} -> ${byCtl.status} ${JSON.stringify(row.error ? byCtl.stdout : mine)}`);
      if (row.error) {
        want.push(`${row.args} -> ${byEjabberdctl.status} ""`);
        expect(byEjabberdctl.status).not.toBe(0);
      } else if (row.differs) {
        expect(byEjabberdctl.stdout).toBe(sub(row.differs.ejabberdctl, 'e'));
        want.push(`${row.args} -> ${byEjabberdctl.status} ${JSON.stringify(sub(row.differs.ctl, 'e'))}`);
      } else {
        want.push(`${row.args} -> ${byEjabberdctl.status} ${JSON.stringify(byEjabberdctl.stdout)}`);
      }
    }
    expect(seen).toEqual(want);
  }, 300_000);
});
