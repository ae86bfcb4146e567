/**
 * The owner's room configuration form (XEP-0045 §10.2, muc#roomconfig over XEP-0004): the form
 * ejabberd offers for a room's options, and reading a submitted one back into options. Field
 * names are ejabberd's, the older names it still accepts included, so clients written against
 * it fill ours the same way.
 */
import { Element } from 'ltx';
import type { PrivateMessagesFrom, Role, RoomOptions } from '../../config/muc';
import { NS, StanzaError } from '../stanza';

export const NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo';

type BroadcastRole = Exclude<Role, 'none'>;

/** What the form depends on besides the room's options. */
export interface FormContext {
  /** `room@service`, for the form's title. */
  readonly room: string;
  /** The service's cap on occupants (mod_muc's max_users). */
  readonly maxUsers: number;
  /** The options a new room gets: their max_users is one of the choices offered. */
  readonly defaultMaxUsers: number;
  /** May this owner make the room persistent (access_persistent)? */
  readonly mayPersist: boolean;
  /** Longest title and description, in bytes. */
  readonly maxRoomName: number;
  readonly maxRoomDesc: number;
}

/** ejabberd's max_users choices, capped by the service's. */
const MAX_USERS_CHOICES = [5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000];
const ROLES: readonly BroadcastRole[] = ['moderator', 'participant', 'visitor'];
const PM_FROM: readonly PrivateMessagesFrom[] = ['nobody', 'moderators', 'anyone'];

/** Legacy field names ejabberd still reads, and the names it writes now. */
const LEGACY: Readonly<Record<string, string>> = {
  'muc#roomconfig_allowvisitorstatus': 'allow_visitor_status',
  'muc#roomconfig_allowvisitornickchange': 'allow_visitor_nickchange',
  'muc#roomconfig_allowvoicerequests': 'allow_voice_requests',
  'muc#roomconfig_allow_subscription': 'allow_subscription',
  'muc#roomconfig_voicerequestmininterval': 'voice_request_min_interval',
  'muc#roomconfig_mam': 'mam',
  allow_private_messages: 'muc#roomconfig_allowpm',
};

interface FieldSpec {
  readonly type: string;
  readonly label: string;
  readonly values: readonly string[];
  readonly options?: readonly { readonly label: string; readonly value: string }[];
}

const bool = (v: boolean) => (v ? '1' : '0');

/** The form an owner gets with `<query xmlns='muc#owner'/>`: every option's field with its value. */
export function configForm(options: RoomOptions, ctx: FormContext): Element {
  const x = new Element('x', { xmlns: NS.dataForms, type: 'form' });
  x.c('title').t(`Configuration of room ${ctx.room}`);
  const fields: [string, FieldSpec][] = [
    ['FORM_TYPE', { type: 'hidden', label: '', values: [NS_ROOMCONFIG] }],
    ['muc#roomconfig_roomname', { type: 'text-single', label: 'Room title', values: [options.title] }],
    ['muc#roomconfig_roomdesc', { type: 'text-single', label: 'Room description', values: [options.description] }],
    ['muc#roomconfig_lang', { type: 'text-single', label: 'Natural Language for Room Discussions', values: [options.lang] }],
  ];
  if (ctx.mayPersist) fields.push(['muc#roomconfig_persistentroom', { type: 'boolean', label: 'Make room persistent', values: [bool(options.persistent)] }]);
  const maxUsers = [...new Set([...MAX_USERS_CHOICES, ctx.maxUsers, ctx.defaultMaxUsers, options.max_users])]
    .filter((n) => n <= ctx.maxUsers)
    .sort((a, b) => a - b);
  fields.push(
    ['muc#roomconfig_publicroom', { type: 'boolean', label: 'Make room public searchable', values: [bool(options.public)] }],
    ['public_list', { type: 'boolean', label: 'Make participants list public', values: [bool(options.public_list)] }],
    ['muc#roomconfig_passwordprotectedroom', { type: 'boolean', label: 'Make room password protected', values: [bool(options.password_protected)] }],
    ['muc#roomconfig_roomsecret', { type: 'text-private', label: 'Password', values: [options.password_protected ? options.password : ''] }],
    [
      'muc#roomconfig_maxusers',
      {
        type: 'list-single',
        label: 'Maximum Number of Occupants',
        values: [String(options.max_users)],
        options: maxUsers.map((n) => ({ label: String(n), value: String(n) })),
      },
    ],
    [
      'muc#roomconfig_whois',
      {
        type: 'list-single',
        label: 'Present real Jabber IDs to',
        values: [options.anonymous ? 'moderators' : 'anyone'],
        options: [
          { label: 'moderators only', value: 'moderators' },
          { label: 'anyone', value: 'anyone' },
        ],
      },
    ],
    [
      'muc#roomconfig_presencebroadcast',
      {
        type: 'list-multi',
        label: 'Roles for which Presence is Broadcasted',
        values: options.presence_broadcast,
        options: ROLES.map((r) => ({ label: r[0].toUpperCase() + r.slice(1), value: r })),
      },
    ],
    ['muc#roomconfig_membersonly', { type: 'boolean', label: 'Make room members-only', values: [bool(options.members_only)] }],
    ['muc#roomconfig_moderatedroom', { type: 'boolean', label: 'Make room moderated', values: [bool(options.moderated)] }],
    ['members_by_default', { type: 'boolean', label: 'Default users as participants', values: [bool(options.members_by_default)] }],
    ['muc#roomconfig_changesubject', { type: 'boolean', label: 'Allow users to change the subject', values: [bool(options.allow_change_subj)] }],
    [
      'muc#roomconfig_allowpm',
      {
        type: 'list-single',
        label: 'Allow users to send private messages',
        values: [options.allow_private_messages ? 'anyone' : 'none'],
        options: [
          { label: 'Anyone', value: 'anyone' },
          { label: 'Nobody', value: 'none' },
        ],
      },
    ],
    [
      'allow_private_messages_from_visitors',
      {
        type: 'list-single',
        label: 'Allow visitors to send private messages to',
        values: [options.allow_private_messages_from_visitors],
        options: PM_FROM.map((v) => ({ label: v, value: v })),
      },
    ],
    ['allow_query_users', { type: 'boolean', label: 'Allow users to query other users', values: [bool(options.allow_query_users)] }],
    ['muc#roomconfig_allowinvites', { type: 'boolean', label: 'Allow users to send invites', values: [bool(options.allow_user_invites)] }],
    [
      'allow_visitor_status',
      { type: 'boolean', label: 'Allow visitors to send status text in presence updates', values: [bool(options.allow_visitor_status)] },
    ],
    ['allow_visitor_nickchange', { type: 'boolean', label: 'Allow visitors to change nickname', values: [bool(options.allow_visitor_nickchange)] }],
    ['allow_voice_requests', { type: 'boolean', label: 'Allow visitors to send voice requests', values: [bool(options.allow_voice_requests)] }],
    ['allow_subscription', { type: 'boolean', label: 'Allow subscription', values: [bool(options.allow_subscription)] }],
    [
      'voice_request_min_interval',
      { type: 'text-single', label: 'Minimum interval between voice requests (in seconds)', values: [String(options.voice_request_min_interval)] },
    ],
    ['muc#roomconfig_pubsub', { type: 'text-single', label: 'XMPP URI of Associated Publish-Subscribe Node', values: [options.pubsub] }],
    ['enable_hats', { type: 'boolean', label: 'Enable hats', values: [bool(options.enable_hats)] }],
    ['muc#roomconfig_enablelogging', { type: 'boolean', label: 'Enable logging', values: [bool(options.logging)] }],
    ['mam', { type: 'boolean', label: 'Enable message archiving', values: [bool(options.mam)] }],
  );
  for (const [name, spec] of fields) {
    const f = x.c('field', spec.type === 'hidden' ? { var: name, type: spec.type } : { var: name, type: spec.type, label: spec.label });
    for (const v of spec.values) f.c('value').t(v);
    for (const o of spec.options ?? []) f.c('option', { label: o.label }).c('value').t(o.value);
  }
  return x;
}

/** The values of each field of a submitted form, by (current) field name. */
export function formValues(x: Element): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of x.getChildren('field')) {
    const name = f.attrs.var as string | undefined;
    if (name === undefined) continue;
    out.set(
      LEGACY[name] ?? name,
      f.getChildren('value').map((v) => v.getText()),
    );
  }
  return out;
}

/**
 * The options a submitted form asks for: `current` with each field given applied. A value that
 * cannot be read is bad-request; one the service does not allow (over a limit, a password room
 * without a password, persistence the owner may not choose) is not-acceptable.
 */
export function readConfigForm(x: Element, current: RoomOptions, ctx: FormContext): RoomOptions {
  const values = formValues(x);
  const formType = values.get('FORM_TYPE')?.[0];
  if (formType !== undefined && formType !== NS_ROOMCONFIG) throw new StanzaError('bad-request', `The form is not a room configuration form (${formType})`);
  const out: { -readonly [K in keyof RoomOptions]: RoomOptions[K] } = { ...current };
  const one = (name: string): string | undefined => {
    const v = values.get(name);
    return v === undefined ? undefined : (v[0] ?? '');
  };
  const flag = (name: string, set: (v: boolean) => void) => {
    const v = one(name);
    if (v === undefined) return;
    if (v === '1' || v === 'true') set(true);
    else if (v === '0' || v === 'false') set(false);
    else throw new StanzaError('bad-request', `Field ${name}: '${v}' is not a boolean (1, 0, true or false)`);
  };
  const text = (name: string, set: (v: string) => void) => {
    const v = one(name);
    if (v !== undefined) set(v);
  };
  const choice = <T extends string>(name: string, allowed: readonly T[], set: (v: T) => void) => {
    const v = one(name);
    if (v === undefined) return;
    if (!(allowed as readonly string[]).includes(v)) throw new StanzaError('bad-request', `Field ${name}: '${v}' is not one of ${allowed.join(', ')}`);
    set(v as T);
  };
  const whole = (name: string, set: (v: number) => void) => {
    const v = one(name);
    if (v === undefined) return;
    if (!/^\d+$/.test(v.trim())) throw new StanzaError('bad-request', `Field ${name}: '${v}' is not a whole number`);
    set(Number(v.trim()));
  };

  text('muc#roomconfig_roomname', (v) => (out.title = v));
  text('muc#roomconfig_roomdesc', (v) => (out.description = v));
  text('muc#roomconfig_lang', (v) => (out.lang = v));
  flag('muc#roomconfig_persistentroom', (v) => (out.persistent = v));
  flag('muc#roomconfig_publicroom', (v) => (out.public = v));
  flag('public_list', (v) => (out.public_list = v));
  flag('muc#roomconfig_passwordprotectedroom', (v) => (out.password_protected = v));
  text('muc#roomconfig_roomsecret', (v) => (out.password = v));
  const maxUsers = one('muc#roomconfig_maxusers');
  if (maxUsers === 'none') out.max_users = ctx.maxUsers;
  else whole('muc#roomconfig_maxusers', (v) => (out.max_users = v));
  choice('muc#roomconfig_whois', ['moderators', 'anyone'], (v) => (out.anonymous = v === 'moderators'));
  const broadcast = values.get('muc#roomconfig_presencebroadcast');
  if (broadcast !== undefined) {
    const bad = broadcast.find((r) => !(ROLES as readonly string[]).includes(r));
    if (bad !== undefined) throw new StanzaError('bad-request', `Field muc#roomconfig_presencebroadcast: '${bad}' is not one of ${ROLES.join(', ')}`);
    out.presence_broadcast = ROLES.filter((r) => broadcast.includes(r));
  }
  flag('muc#roomconfig_membersonly', (v) => (out.members_only = v));
  flag('muc#roomconfig_moderatedroom', (v) => (out.moderated = v));
  flag('members_by_default', (v) => (out.members_by_default = v));
  flag('muc#roomconfig_changesubject', (v) => (out.allow_change_subj = v));
  const pm = one('muc#roomconfig_allowpm');
  if (pm === '1' || pm === '0' || pm === 'true' || pm === 'false') flag('muc#roomconfig_allowpm', (v) => (out.allow_private_messages = v));
  else choice('muc#roomconfig_allowpm', ['anyone', 'participants', 'moderators', 'none'], (v) => (out.allow_private_messages = v !== 'none'));
  choice('allow_private_messages_from_visitors', PM_FROM, (v) => (out.allow_private_messages_from_visitors = v));
  flag('allow_query_users', (v) => (out.allow_query_users = v));
  flag('muc#roomconfig_allowinvites', (v) => (out.allow_user_invites = v));
  flag('allow_visitor_status', (v) => (out.allow_visitor_status = v));
  flag('allow_visitor_nickchange', (v) => (out.allow_visitor_nickchange = v));
  flag('allow_voice_requests', (v) => (out.allow_voice_requests = v));
  flag('allow_subscription', (v) => (out.allow_subscription = v));
  whole('voice_request_min_interval', (v) => (out.voice_request_min_interval = v));
  text('muc#roomconfig_pubsub', (v) => (out.pubsub = v));
  flag('enable_hats', (v) => (out.enable_hats = v));
  flag('muc#roomconfig_enablelogging', (v) => (out.logging = v));
  flag('mam', (v) => (out.mam = v));

  // What the form changes is checked; what it leaves as it was stays, even past a limit lowered since.
  if (out.persistent !== current.persistent && !ctx.mayPersist) throw new StanzaError('not-acceptable', 'You may not change whether this room is persistent');
  if (out.max_users !== current.max_users && (out.max_users < 1 || out.max_users > ctx.maxUsers)) {
    throw new StanzaError('not-acceptable', `The room may have from 1 to ${ctx.maxUsers} occupants`);
  }
  if (out.title !== current.title && Buffer.byteLength(out.title) > ctx.maxRoomName) {
    throw new StanzaError('not-acceptable', `The room title is longer than ${ctx.maxRoomName} bytes`);
  }
  if (out.description !== current.description && Buffer.byteLength(out.description) > ctx.maxRoomDesc) {
    throw new StanzaError('not-acceptable', `The room description is longer than ${ctx.maxRoomDesc} bytes`);
  }
  if (out.password_protected && out.password === '') throw new StanzaError('not-acceptable', 'A password-protected room needs a password');
  return out;
}
