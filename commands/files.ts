import type { Command } from '../src/core/command';

/**
 * The files of commands/ but this one and the index, each with its commands, loaded when first
 * asked for. They are named here rather than found on disk so that a bundle of the command line
 * holds them: a file loaded by its path would be a second copy of the code it shares with the
 * bundle.
 */
export const commandFiles: Readonly<Record<string, () => readonly Command[]>> = {
  accounts: () => (require('./accounts') as typeof import('./accounts')).accountsCommands,
  api: () => (require('./api') as typeof import('./api')).apiCommands,
  cluster: () => (require('./cluster') as typeof import('./cluster')).clusterCommands,
  documentation: () => (require('./documentation') as typeof import('./documentation')).documentationCommands,
  mnesia: () => (require('./mnesia') as typeof import('./mnesia')).mnesiaCommands,
  modules: () => (require('./modules') as typeof import('./modules')).modulesCommands,
  muc: () => (require('./muc') as typeof import('./muc')).mucCommands,
  purge: () => (require('./purge') as typeof import('./purge')).purgeCommands,
  roster: () => (require('./roster') as typeof import('./roster')).rosterCommands,
  server: () => (require('./server') as typeof import('./server')).serverCommands,
  session: () => (require('./session') as typeof import('./session')).sessionCommands,
  srg: () => (require('./srg') as typeof import('./srg')).srgCommands,
  stanza: () => (require('./stanza') as typeof import('./stanza')).stanzaCommands,
  stats: () => (require('./stats') as typeof import('./stats')).statsCommands,
  test: () => (require('./test') as typeof import('./test')).testCommands,
  vcard: () => (require('./vcard') as typeof import('./vcard')).vcardCommands,
};
