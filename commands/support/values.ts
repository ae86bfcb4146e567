/**
 * The values of enumerated arguments, one list each: the command declarations give them to help,
 * and the support modules check arguments against them. It imports nothing, so that declaring
 * the commands stays as cheap as it was.
 */

export const ROSTER_SUBSCRIPTIONS = ['none', 'from', 'to', 'both'] as const;

/** What send_message sends; groupchat goes through a room, never from here. */
export const MESSAGE_TYPES = ['chat', 'normal', 'headline'] as const;

export const PRESENCE_TYPES = ['available', 'unavailable'] as const;

/** `available` (or an empty word) sends no `<show/>`. */
export const PRESENCE_SHOWS = ['available', 'away', 'chat', 'dnd', 'xa'] as const;

/** What a session's status may be. */
export const SESSION_STATUSES = ['available', 'away', 'chat', 'dnd', 'xa', 'unavailable'] as const;

/** status_list and status_num take a status, or `all`. */
export const STATUS_FILTERS = [...SESSION_STATUSES, 'all'] as const;

export const NODE_STATS = ['registeredusers', 'onlineusers', 'onlineusersnode', 'uptimeseconds', 'processes'] as const;
export const HOST_STATS = ['registeredusers', 'onlineusers'] as const;

/** delete_old_mam_messages: the archive types, or `all`. */
export const MAM_PURGE_TYPES = ['chat', 'groupchat', 'all'] as const;

export const ROOM_AFFILIATIONS = ['owner', 'admin', 'member', 'outcast', 'none'] as const;

/** `a, b or c`: the values in an error message. */
export function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}
