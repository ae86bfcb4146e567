/**
 * Nick registration with a MUC service (XEP-0045 §7.10, jabber:iq:register): the form with the
 * nick the user holds, registering or changing it, and `<remove/>`. A registered nick is its
 * holder's alone in every room of the service.
 */
import { Element } from 'ltx';
import type { Muc } from '../../features/muc/types';
import type { BareJid } from '../../lib/jid';
import { NS, StanzaError, asStanzaErrors } from '../stanza';
import { formValues } from './form';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_MUC_REGISTER = 'http://jabber.org/protocol/muc#register';

/** Answers a jabber:iq:register get or set from `jid` at `service`. */
export async function register(iq: Element, service: string, jid: BareJid, muc: Muc): Promise<Element | undefined> {
  const query = iq.getChild('query', NS_REGISTER);
  if (!query) throw new StanzaError('bad-request', `Expected <query xmlns='${NS_REGISTER}'/>`);
  if (iq.attrs.type === 'get') return registrationForm(service, await muc.nick(service, jid));
  if (query.getChild('remove')) {
    await muc.unregisterNick(service, jid);
    return undefined;
  }
  const x = query.getChild('x', NS.dataForms);
  let nick: string | undefined;
  if (x) {
    if (x.attrs.type === 'cancel') return undefined;
    if (x.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Incorrect data form');
    nick = formValues(x).get('muc#register_roomnick')?.[0];
  } else {
    nick = query.getChildText('nick') ?? undefined;
  }
  nick = nick?.trim();
  if (nick === undefined || nick === '') throw new StanzaError('not-acceptable', 'You must fill in field "Nickname" in the form');
  await asStanzaErrors(muc.registerNick(service, jid, nick), { conflict: 'conflict', bad_argument: 'not-acceptable' }).catch((err: unknown) => {
    // The feature's text names the nick; a client shows ejabberd's sentence.
    if (err instanceof StanzaError && err.condition === 'conflict') throw new StanzaError('conflict', 'That nickname is registered by another person');
    throw err;
  });
  return undefined;
}

function registrationForm(service: string, nick: string | undefined): Element {
  const query = new Element('query', { xmlns: NS_REGISTER });
  query.c('instructions').t('You need a client that supports x:data to register the nickname');
  if (nick !== undefined) query.c('registered');
  query.c('nick').t(nick ?? '');
  const x = query.c('x', { xmlns: NS.dataForms, type: 'form' });
  x.c('title').t(`Nickname Registration at ${service}`);
  x.c('instructions').t('Enter nickname you want to register');
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MUC_REGISTER);
  const field = x.c('field', { var: 'muc#register_roomnick', type: 'text-single', label: 'Nickname' });
  field.c('required');
  if (nick !== undefined) field.c('value').t(nick);
  return query;
}
