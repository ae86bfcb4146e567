/** unsynced() hands every write to the store with `sync: false` unless the caller asks otherwise. */
import { unsynced } from '../../src/storage/unsynced';
import type { Archive, Store } from '../../src/storage/types';

function recordingStore() {
  const archive = {
    append: jest.fn(async () => 'id'),
    find: jest.fn(),
    count: jest.fn(async () => 0),
    delete: jest.fn(async () => 0),
    deleteOps: jest.fn(async () => []),
    purge: jest.fn(async () => 0),
  };
  const store = {
    get: jest.fn(),
    put: jest.fn(async () => undefined),
    del: jest.fn(async () => undefined),
    batch: jest.fn(async () => undefined),
    update: jest.fn(async () => undefined),
    archive: jest.fn(() => archive as unknown as Archive<unknown>),
  };
  return { store, archive, quiet: unsynced(store as unknown as Store) };
}

test('put, del, batch and update write without waiting for the disk unless told to', async () => {
  const { store, quiet } = recordingStore();
  const also = () => [];
  const fn = () => 1;
  await quiet.put('t', ['k'], 1);
  await quiet.del('t', ['k'], { sync: true });
  await quiet.batch([]);
  await quiet.update('t', ['k'], fn, { also });
  await quiet.update('t', ['k'], fn, { sync: true });
  expect(store.put).toHaveBeenCalledWith('t', ['k'], 1, { sync: false });
  expect(store.del).toHaveBeenCalledWith('t', ['k'], { sync: true });
  expect(store.batch).toHaveBeenCalledWith([], { sync: false });
  expect(store.update).toHaveBeenNthCalledWith(1, 't', ['k'], fn, { sync: false, also });
  expect(store.update).toHaveBeenNthCalledWith(2, 't', ['k'], fn, { sync: true });
});

test('an archive of the unsynced store appends, deletes and purges without waiting for the disk', async () => {
  const { store, archive, quiet } = recordingStore();
  const expiresOf = () => undefined;
  const a = quiet.archive('offline', { expiresOf });
  expect(store.archive).toHaveBeenCalledWith('offline', { expiresOf });
  const entry = { atMs: 1, value: 'v' };
  await a.append(['h', 'u'], entry);
  await a.delete(['h', 'u'], ['id']);
  await a.delete(['h', 'u'], undefined, { sync: true });
  const onPage = () => undefined;
  await a.purge({ beforeMs: 5 }, { pageSize: 10, onPage });
  await a.count(['h', 'u']);
  expect(archive.append).toHaveBeenCalledWith(['h', 'u'], entry, { sync: false });
  expect(archive.delete).toHaveBeenNthCalledWith(1, ['h', 'u'], ['id'], { sync: false });
  expect(archive.delete).toHaveBeenNthCalledWith(2, ['h', 'u'], undefined, { sync: true });
  expect(archive.purge).toHaveBeenCalledWith({ beforeMs: 5 }, { sync: false, pageSize: 10, onPage });
  expect(archive.count).toHaveBeenCalledWith(['h', 'u']);
});
