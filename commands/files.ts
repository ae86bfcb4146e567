/**
 * The files of commands/ but the index, each loaded when first asked for. They are named here
 * rather than found on disk so that a bundle of the command line holds them: a file loaded by
 * its path would be a second copy of the code it shares with the bundle.
 */
export const commandFiles: Readonly<Record<string, () => Record<string, unknown>>> = {
  accounts: () => require('./accounts'),
  api: () => require('./api'),
  cluster: () => require('./cluster'),
  documentation: () => require('./documentation'),
  mnesia: () => require('./mnesia'),
  modules: () => require('./modules'),
  muc: () => require('./muc'),
  purge: () => require('./purge'),
  roster: () => require('./roster'),
  server: () => require('./server'),
  session: () => require('./session'),
  srg: () => require('./srg'),
  stanza: () => require('./stanza'),
  stats: () => require('./stats'),
  test: () => require('./test'),
  vcard: () => require('./vcard'),
};
