import { CommandError } from '../../src/lib/errors';
import { ARCHIVE_TYPES, type ArchiveType } from '../../src/features/mam/records';
import type { Mam } from '../../src/features/mam/mam';
import { checkDays } from '../../src/lib/days';

const PURGE_TYPES: readonly string[] = [...ARCHIVE_TYPES, 'all'];

/** delete_old_mam_messages: `type` is chat, groupchat or all. */
export async function deleteOldMamMessages(mam: Mam, type: string, days: number): Promise<boolean> {
  if (!PURGE_TYPES.includes(type)) {
    throw new CommandError('bad_argument', `Unknown message type '${type}' (type): use chat, groupchat or all`, { details: { arg: 'type' } });
  }
  checkDays(days);
  await mam.deleteOld(type as ArchiveType | 'all', days);
  return true;
}
