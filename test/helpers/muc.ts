/**
 * What ejabberd 23.01's get_room_options prints for a room with its default options, line by
 * line: the tests of the options, of the command and of a running node compare with it.
 */
export const DEFAULT_OPTION_LINES: readonly (readonly [string, string])[] = [
  ['title', ''],
  ['description', ''],
  ['allow_change_subj', 'true'],
  ['allow_query_users', 'true'],
  ['allow_private_messages', 'true'],
  ['allow_private_messages_from_visitors', 'anyone'],
  ['allow_visitor_status', 'true'],
  ['allow_visitor_nickchange', 'true'],
  ['public', 'true'],
  ['public_list', 'true'],
  ['persistent', 'false'],
  ['moderated', 'true'],
  ['captcha_protected', 'false'],
  ['members_by_default', 'true'],
  ['members_only', 'false'],
  ['allow_user_invites', 'false'],
  ['allow_subscription', 'false'],
  ['password_protected', 'false'],
  ['password', ''],
  ['anonymous', 'true'],
  ['presence_broadcast', '[moderator,participant,visitor]'],
  ['allow_voice_requests', 'true'],
  ['voice_request_min_interval', '1800'],
  ['max_users', '200'],
  ['logging', 'false'],
  ['vcard', ''],
  ['vcard_xupdate', 'undefined'],
  ['captcha_whitelist', '{0,nil}'],
  ['mam', 'false'],
  ['pubsub', ''],
  ['enable_hats', 'false'],
  ['lang', 'en'],
];

/** get_room_options' whole output for a room with the defaults but for `changed` (option → printed value). */
export function optionsOutput(changed: Readonly<Record<string, string>> = {}): string {
  for (const name of Object.keys(changed)) if (!DEFAULT_OPTION_LINES.some(([n]) => n === name)) throw new Error(`no room option ${name}`);
  return DEFAULT_OPTION_LINES.map(([n, v]) => `${n}\t${changed[n] ?? v}\n`).join('');
}
