import { defineCommand } from './support/define';
import { f, list, string, binary, rescode } from '../src/schema/types';

// Loaded when a command of this file first runs: listing the commands must not load them.
const privateSupport = () => require('./support/private') as typeof import('./support/private');
const vcardSupport = () => require('./support/vcard') as typeof import('./support/vcard');

// ejabberd's descriptions of the vCard commands, shared by the get and set variants.
const VCARD_NAMES =
  'Some vcard field names in get/set_vcard are:\n FN\t\t- Full Name\n NICKNAME\t- Nickname\n BDAY\t\t- Birthday\n TITLE\t\t- Work: Position\n ROLE\t\t- Work: Role\n';
const VCARD2_NAMES =
  'Some vcard field names and subnames in get/set_vcard2 are:\n N FAMILY\t- Family name\n N GIVEN\t- Given name\n N MIDDLE\t- Middle name\n ADR CTRY\t- Address: Country\n ADR LOCALITY\t- Address: City\n TEL HOME      - Telephone: Home\n TEL CELL      - Telephone: Cellphone\n TEL WORK      - Telephone: Work\n TEL VOICE     - Telephone: Voice\n EMAIL USERID\t- E-Mail Address\n ORG ORGNAME\t- Work: Company\n ORG ORGUNIT\t- Work: Department\n';
const XEP_0054 = 'For a full list of vCard fields check XEP-0054: vcard-temp at http://www.xmpp.org/extensions/xep-0054.html';
const VCARD_LONGDESC = `${VCARD_NAMES}${VCARD2_NAMES}\n${XEP_0054}`;
const VCARD2_LONGDESC = `${VCARD2_NAMES}\n${VCARD_NAMES}${XEP_0054}`;

export const vcardCommands = [
  defineCommand({
    name: 'get_vcard',
    readOnly: true,
    tags: ['vcard'],
    desc: 'Get content from a vCard field',
    longdesc: VCARD_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary)],
    result: f('content', string),
    handler: ({ user, host, name }, { services }) => vcardSupport().getVcard(services, user, host, name),
  }),
  defineCommand({
    name: 'get_vcard2',
    readOnly: true,
    tags: ['vcard'],
    desc: 'Get content from a vCard field',
    longdesc: VCARD2_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary), f('subname', binary)],
    result: f('content', string),
    handler: ({ user, host, name, subname }, { services }) => vcardSupport().getVcard2(services, user, host, name, subname),
  }),
  defineCommand({
    name: 'get_vcard2_multi',
    readOnly: true,
    tags: ['vcard'],
    desc: 'Get multiple contents from a vCard field',
    longdesc: VCARD2_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary), f('subname', binary)],
    result: f('contents', list(f('value', string))),
    handler: ({ user, host, name, subname }, { services }) => vcardSupport().getVcard2Multi(services, user, host, name, subname),
  }),
  defineCommand({
    name: 'private_get',
    readOnly: true,
    tags: ['private'],
    desc: 'Get some information from a user private storage',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('element', binary), f('ns', binary)],
    result: f('res', string),
    handler: ({ user, host, element, ns }, { services }) => privateSupport().privateGet(services, user, host, element, ns),
  }),
  defineCommand({
    name: 'private_set',
    tags: ['private'],
    desc: 'Set to the user private storage',
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('element', binary)],
    result: f('res', rescode),
    handler: ({ user, host, element }, { services }) => privateSupport().privateSet(services, user, host, element),
  }),
  defineCommand({
    name: 'set_nickname',
    tags: ['vcard'],
    desc: "Set nickname in a user's vCard",
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('nickname', binary)],
    result: f('res', rescode),
    handler: ({ user, host, nickname }, { services }) => vcardSupport().setNickname(services, user, host, nickname),
  }),
  defineCommand({
    name: 'set_vcard',
    tags: ['vcard'],
    desc: 'Set content in a vCard field',
    longdesc: VCARD_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary), f('content', binary)],
    result: f('res', rescode),
    handler: ({ user, host, name, content }, { services }) => vcardSupport().setVcard(services, user, host, name, content),
  }),
  defineCommand({
    name: 'set_vcard2',
    tags: ['vcard'],
    desc: 'Set content in a vCard subfield',
    longdesc: VCARD2_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary), f('subname', binary), f('content', binary)],
    result: f('res', rescode),
    handler: ({ user, host, name, subname, content }, { services }) => vcardSupport().setVcard2(services, user, host, name, subname, content),
  }),
  defineCommand({
    name: 'set_vcard2_multi',
    tags: ['vcard'],
    desc: 'Set multiple contents in a vCard subfield',
    longdesc: VCARD2_LONGDESC,
    module: 'mod_admin_extra',
    policy: 'restricted',
    needs: 'store',
    args: [f('user', binary), f('host', binary), f('name', binary), f('subname', binary), f('contents', list(f('value', binary)))],
    result: f('res', rescode),
    handler: ({ user, host, name, subname, contents }, { services }) => vcardSupport().setVcard2Multi(services, user, host, name, subname, contents),
  }),
];
