// The house's rules that a linter can check: which folder may import which (dependencies point
// down DESIGN's list: commands, node, transports, docs, migrate, xmpp, features, core, schema,
// storage, config, lib), and a few type-aware rules.
'use strict';
const tseslint = require('typescript-eslint');

const folders = ['commands', 'node', 'transports', 'docs', 'migrate', 'xmpp', 'features', 'core', 'schema', 'storage', 'config', 'lib'];

/** `no-restricted-imports` for a folder that may not import `forbidden` (folders of src/, or commands). */
function layer(files, forbidden, why) {
  const group = forbidden.flatMap((f) => [`**/${f}`, `**/${f}/**`, `../${f}`, `../${f}/**`]);
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message: why }] }] } };
}
const above = (folder) => folders.slice(0, folders.indexOf(folder));

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'man/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'no-fallthrough': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '../**'], message: 'src/lib holds leaf utilities: it imports nothing of the project' }] },
      ],
    },
  },
  layer(['src/config/**/*.ts'], above('config'), 'the configuration depends on src/lib alone'),
  layer(['src/storage/**/*.ts'], [...above('storage'), 'config'], 'storage drivers know no features, commands or configuration'),
  layer(['src/schema/**/*.ts'], [...above('schema'), 'storage', 'config'], 'the schema is the type language alone'),
  layer(['src/core/**/*.ts'], [...above('core'), 'storage'], 'the core (registry, executor, context) knows no node, feature or transport'),
  layer(
    ['src/features/**/*.ts'],
    ['commands', 'node', 'transports', 'docs', 'migrate', 'core', 'xmpp'],
    'features own their records and domain API: they know no transport, node, command or migration format',
  ),
  layer(
    ['src/migrate/**/*.ts'],
    ['commands', 'node', 'transports', 'docs', 'core', 'xmpp'],
    "migration formats use the features' records, not commands, transports or the node",
  ),
  layer(
    ['src/docs/**/*.ts'],
    ['commands', 'node', 'transports', 'migrate', 'features', 'storage', 'xmpp'],
    'the documentation renders the registry it is given',
  ),
  layer(
    ['src/xmpp/**/*.ts'],
    ['commands', 'node', 'transports', 'docs', 'migrate', 'storage'],
    'the XMPP server calls the features: it knows no command, transport of the admin API, migration format or table',
  ),
  layer(
    ['src/transports/**/*.ts'],
    ['commands', 'node', 'migrate', 'features', 'storage', 'xmpp'],
    'transports only translate: they are given the registry and the runners',
  ),
  {
    // Only the node picks a storage driver (tests open them too).
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    ignores: ['src/node/**', 'src/storage/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportDeclaration[source.value=/storage\\/(level|memory|pg)$/]', message: 'only the node picks a storage driver' },
      ],
    },
  },
  layer(
    ['commands/**/*.ts'],
    ['transports', 'storage/level', 'storage/memory', 'storage/pg'],
    'commands call the domain through their adapters, never a transport or a driver',
  ),
);
