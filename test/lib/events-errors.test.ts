import { CommandError, fieldError, naming, renameField } from '../../src/lib/errors';
import { createEventBus } from '../../src/lib/events';

interface TestEvents {
  changed: { readonly id: number };
  other: { readonly text: string };
}

describe('event bus', () => {
  test('listeners hear the events they subscribed to, in order, until they unsubscribe', () => {
    const bus = createEventBus<TestEvents>();
    const heard: string[] = [];
    const off = bus.on('changed', (p) => void heard.push(`first ${p.id}`));
    bus.on('changed', (p) => void heard.push(`second ${p.id}`));
    bus.on('other', (p) => void heard.push(p.text));
    bus.emit('changed', { id: 1 });
    off();
    bus.emit('changed', { id: 2 });
    expect(heard).toEqual(['first 1', 'second 1', 'second 2']);
  });

  test('a listener that throws is reported and does not stop the others', async () => {
    const errors: string[] = [];
    const bus = createEventBus<TestEvents>((err, event) => errors.push(`${event}: ${(err as Error).message}`));
    const heard: number[] = [];
    bus.on('changed', () => {
      throw new Error('sync failure');
    });
    bus.on('changed', async () => {
      throw new Error('async failure');
    });
    bus.on('changed', (p) => void heard.push(p.id));
    bus.emit('changed', { id: 7 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([7]);
    expect(errors).toEqual(['changed: sync failure', 'changed: async failure']);
  });
});

describe('field errors', () => {
  const tooLong = () => fieldError('bad_argument', 'password', (name) => `The password (${name}) is longer than 1024 bytes`);

  test('name the domain field until renamed to an argument', () => {
    const err = tooLong();
    expect(err.message).toBe('The password (password) is longer than 1024 bytes');
    const renamed = renameField(err, { password: 'newpass' }) as CommandError;
    expect(renamed.message).toBe('The password (newpass) is longer than 1024 bytes');
    expect(renamed.code).toBe('bad_argument');
    expect(renamed.details).toEqual({ arg: 'newpass', field: 'newpass' });
  });

  test('errors about other fields, and other errors, pass through unchanged', async () => {
    const plain = new CommandError('not_found', 'User a@b does not exist');
    expect(renameField(plain, { password: 'newpass' })).toBe(plain);
    const err = tooLong();
    expect(renameField(err, { user: 'localuser' })).toBe(err);
    await expect(naming({ password: 'newpass' }, () => Promise.reject(tooLong()))).rejects.toThrow('The password (newpass) is longer than 1024 bytes');
    await expect(naming({ password: 'newpass' }, () => 'fine')).resolves.toBe('fine');
  });
});
