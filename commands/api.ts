import { defineCommand } from './support/define';
import { f, list, tuple, integer, string, binary, rescode } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const tokensSupport = () => require('./support/tokens') as typeof import('./support/tokens');

/** Bearer tokens for the HTTP API and XML-RPC: ctl's additions, beyond the ejabberd API. */
export const apiCommands = [
  defineCommand({
    name: 'api_token_create',
    tags: ['api'],
    desc: 'Create a bearer token for the HTTP API and XML-RPC',
    longdesc:
      'The token acts as the account USER@HOST (an administrator if the account is in the admin ACL). It is shown only now; DAYS is its lifetime, 0 for no expiry.',
    module: 'ctl',
    origin: 'ctl',
    policy: 'admin',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('days', integer)],
    result: f('token', string),
    handler: ({ user, host, days }, { services }) => tokensSupport().createToken(services.accounts, services.tokens, user, host, days),
  }),
  defineCommand({
    name: 'api_token_list',
    readOnly: true,
    tags: ['api'],
    desc: 'List the bearer tokens (not the tokens themselves: their ids)',
    module: 'ctl',
    origin: 'ctl',
    policy: 'admin',
    needs: 'store',
    args: [],
    result: f('tokens', list(f('token', tuple(f('id', string), f('jid', string), f('created', string), f('expires', string))))),
    handler: (_args, { services, progress }) => tokensSupport().listTokens(services.tokens, progress),
  }),
  defineCommand({
    name: 'api_token_revoke',
    tags: ['api'],
    desc: 'Revoke a bearer token by the id api_token_list shows',
    module: 'ctl',
    origin: 'ctl',
    policy: 'admin',
    needs: 'store',
    args: [f('id', binary)],
    result: f('res', rescode),
    handler: ({ id }, { services }) => tokensSupport().revokeToken(services.tokens, id),
  }),
];
