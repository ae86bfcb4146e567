import { naming } from '../../src/lib/errors';
import type { Accounts } from '../../src/features/accounts/accounts';
import { vcardField, vcardValues, type Vcard } from '../../src/features/vcard/vcard';

/** What the vCard commands use of the node's features. */
export interface VcardFeatures {
  readonly vcard: Vcard;
  readonly accounts: Accounts;
}

// The field's names are checked first, then the values, then the user, as they always were.

export async function getVcard(f: VcardFeatures, user: string, host: string, name: string): Promise<string> {
  const field = vcardField(name);
  return f.vcard.fieldValue(f.accounts.jid(user, host), field);
}

export function getVcard2(f: VcardFeatures, user: string, host: string, name: string, subname: string): Promise<string> {
  return naming({ sub: 'subname' }, () => {
    const field = vcardField(name, subname);
    return f.vcard.fieldValue(f.accounts.jid(user, host), field);
  });
}

export function getVcard2Multi(f: VcardFeatures, user: string, host: string, name: string, subname: string): Promise<string[]> {
  return naming({ sub: 'subname' }, () => {
    const field = vcardField(name, subname);
    return f.vcard.fieldValues(f.accounts.jid(user, host), field);
  });
}

export function setVcard(f: VcardFeatures, user: string, host: string, name: string, content: string): Promise<boolean> {
  return setField(f, { user, host, name, values: [content], arg: 'content' });
}

export function setVcard2(f: VcardFeatures, user: string, host: string, name: string, subname: string, content: string): Promise<boolean> {
  return setField(f, { user, host, name, subname, values: [content], arg: 'content' });
}

export function setVcard2Multi(f: VcardFeatures, user: string, host: string, name: string, subname: string, contents: readonly string[]): Promise<boolean> {
  return setField(f, { user, host, name, subname, values: contents, arg: 'contents' });
}

/** Unlike ejabberd's, keeps the rest of the vCard. */
export function setNickname(f: VcardFeatures, user: string, host: string, nickname: string): Promise<boolean> {
  return setField(f, { user, host, name: 'NICKNAME', values: [nickname], arg: 'nickname' });
}

/** `arg`: the argument that holds the values. */
function setField(
  f: VcardFeatures,
  a: { user: string; host: string; name: string; subname?: string; values: readonly string[]; arg: string },
): Promise<boolean> {
  return naming({ sub: 'subname', values: a.arg }, async () => {
    const field = vcardField(a.name, a.subname);
    vcardValues(a.values);
    await f.vcard.setField(f.accounts.jid(a.user, a.host), field, a.values);
    return true;
  });
}
