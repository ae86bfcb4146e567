import { defineCommand } from './support/define';
import { MESSAGE_TYPES } from './support/values';
import { f, integer, binary, rescode } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const offlineSupport = () => require('./support/offline') as typeof import('./support/offline');
const privacySupport = () => require('./support/privacy') as typeof import('./support/privacy');
const sessions = () => require('./support/sessions') as typeof import('./support/sessions');

export const stanzaCommands = [
  defineCommand({
    name: 'get_offline_count',
    readOnly: true,
    tags: ['offline'],
    desc: 'Get the number of unread offline messages',
    module: 'mod_offline',
    policy: 'user',
    needs: 'store',
    args: [],
    result: f('res', integer),
    handler: ({ user, server }, { services }) => offlineSupport().offlineCount(services, user, server),
  }),
  defineCommand({
    name: 'privacy_set',
    tags: ['stanza'],
    desc: 'Send a IQ set privacy stanza for a local account',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('xmlquery', binary)],
    result: f('res', rescode),
    handler: ({ user, host, xmlquery }, { services }) => privacySupport().privacySet(services, user, host, xmlquery),
  }),
  defineCommand({
    name: 'send_message',
    tags: ['stanza'],
    desc: 'Send a message to a local or remote bare of full JID',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    argValues: { type: MESSAGE_TYPES },
    args: [f('type', binary), f('from', binary), f('to', binary), f('subject', binary), f('body', binary)],
    result: f('res', rescode),
    note: 'On a running node the message is routed as any other: a recipient who is online gets it at once. Without a node it is stored offline.',
    handler: (args, { services, config, running }) => offlineSupport().sendMessage(services.offline, config, args, running && ((m) => running.xmpp.route(m))),
  }),
  defineCommand({
    name: 'send_stanza',
    tags: ['stanza'],
    desc: 'Send a stanza; provide From JID and valid To JID',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'node',
    args: [f('from', binary), f('to', binary), f('stanza', binary)],
    result: f('res', rescode),
    handler: ({ from, to, stanza }, { node }) => sessions().sendStanza(node.xmpp, from, to, stanza),
  }),
  defineCommand({
    name: 'send_stanza_c2s',
    tags: ['stanza'],
    desc: 'Send a stanza as if sent from a c2s session',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'node',
    args: [f('user', binary), f('host', binary), f('resource', binary), f('stanza', binary)],
    result: f('res', rescode),
    note: 'The stanza is written to that session, as if the server had sent it to the client.',
    handler: ({ user, host, resource, stanza }, { node, services }) => sessions().sendStanzaC2s(node.xmpp, services.accounts, user, host, resource, stanza),
  }),
];
