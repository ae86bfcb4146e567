import { CommandError } from '../../src/lib/errors';
import { type ArchiveType } from '../../src/features/mam/records';
import type { Mam } from '../../src/features/mam/mam';
import { checkDays } from '../../src/lib/days';
import { MAM_PURGE_TYPES, oneOf } from './values';

/** delete_old_mam_messages: `type` is chat, groupchat or all. */
export async function deleteOldMamMessages(mam: Mam, type: string, days: number): Promise<boolean> {
  if (!(MAM_PURGE_TYPES as readonly string[]).includes(type)) {
    throw new CommandError('bad_argument', `Unknown message type '${type}' (type): use ${oneOf(MAM_PURGE_TYPES)}`, { details: { arg: 'type' } });
  }
  checkDays(days);
  await mam.deleteOld(type as ArchiveType | 'all', days);
  return true;
}
