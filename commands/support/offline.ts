import { randomUUID } from 'node:crypto';
import type { Config } from '../../src/config/config';
import { CommandError } from '../../src/lib/errors';
import { formatJid, parseJid } from '../../src/lib/jid';
import { checkXmlText, Element } from '../../src/lib/xml';
import type { Accounts } from '../../src/features/accounts/accounts';
import type { Offline } from '../../src/features/offline/offline';
import { checkDays } from '../../src/lib/days';
import { MESSAGE_TYPES, oneOf } from './values';

export interface SendMessageArgs {
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/**
 * send_message: a `<message/>` from `from` to a local user. `route` is the node's router when
 * a node runs (an online user gets it at once); without one it is stored for the next login.
 */
export async function sendMessage(offline: Offline, config: Config, a: SendMessageArgs, route?: (message: Element) => Promise<void>): Promise<boolean> {
  if (!(MESSAGE_TYPES as readonly string[]).includes(a.type)) {
    throw new CommandError('bad_argument', `Unknown message type '${a.type}' (type): use ${oneOf(MESSAGE_TYPES)}`, { details: { arg: 'type' } });
  }
  const sender = parseJid(a.from, 'from');
  const recipient = parseJid(a.to, 'to');
  checkXmlText(a.subject, 'subject', 'subject');
  checkXmlText(a.body, 'body', 'body');
  if (!config.hosts.includes(recipient.host)) {
    throw new CommandError(
      'not_supported',
      `Cannot send to ${formatJid(recipient)}: ${recipient.host} is not a host of this node, and this node has no server-to-server links yet`,
    );
  }
  if (recipient.user === '') {
    throw new CommandError('bad_argument', `The recipient '${a.to}' (to) is a server, not a user: send_message delivers to user@host`, {
      details: { arg: 'to' },
    });
  }
  const message = new Element('message', { type: a.type, from: formatJid(sender), to: formatJid(recipient), id: randomUUID() });
  if (a.subject !== '') message.c('subject').t(a.subject);
  if (a.body !== '') message.c('body').t(a.body);
  if (route) await route(message);
  else await offline.send({ user: recipient.user, host: recipient.host }, message);
  return true;
}

/** get_offline_count */
export function offlineCount(f: { readonly accounts: Accounts; readonly offline: Offline }, user: string, server: string): Promise<number> {
  return f.offline.count(f.accounts.jid(user, server));
}

/** delete_old_messages */
export async function deleteOldMessages(offline: Offline, days: number): Promise<boolean> {
  checkDays(days);
  await offline.deleteOld(days);
  return true;
}

/** delete_expired_messages */
export async function deleteExpiredMessages(offline: Offline): Promise<boolean> {
  await offline.deleteExpired();
  return true;
}
