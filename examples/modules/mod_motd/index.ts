// Message of the day: `ctl motd_set HOST TEXT` stores it, `ctl motd_get HOST` prints it, and
// every client that logs in on HOST gets it as a headline message once it is available.
import type { ExtensionApi } from '../../../src/xmpp/extension';

interface Motd {
  readonly text: string;
  readonly setAt: number;
}

export function setup(api: ExtensionApi): void {
  const { f, binary, string, rescode } = api.types;
  const motd = api.table<Motd>('motd');

  api.defineCommand({
    name: 'motd_set',
    tags: ['motd'],
    desc: 'Set the message of the day of HOST, sent to its users as they log in',
    args: [f('host', binary), f('text', string)],
    result: f('res', rescode),
    handler: async ({ host, text }) => {
      await motd.put(host, { text, setAt: api.clock() });
      return true;
    },
  });

  api.defineCommand({
    name: 'motd_get',
    tags: ['motd'],
    desc: 'Print the message of the day of HOST',
    args: [f('host', binary)],
    result: f('motd', string),
    handler: async ({ host }) => {
      const found = await motd.get(host);
      if (!found) throw new api.CommandError('not_found', `No message of the day is set for ${host}`);
      return found.text;
    },
  });

  api.xmpp.hook('session-available', async (session) => {
    const found = await motd.get(session.jid.host);
    if (!found) return;
    const subject = typeof api.options.subject === 'string' ? api.options.subject : 'Message of the day';
    const to = `${session.jid.user}@${session.jid.host}/${session.jid.resource}`;
    const message = api.xmpp.element('message', { from: session.jid.host, to, type: 'headline' });
    message.c('subject').t(subject);
    message.c('body').t(found.text);
    session.send(message);
  });
}
