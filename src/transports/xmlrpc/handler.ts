import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../../core/access';
import type { CommandError } from '../../lib/errors';
import { toCommandError } from '../../lib/errors';
import type { Command } from '../../core/command';
import { callerArgs } from '../../core/args';
import type { Field, Type } from '../../schema/types';
import { peerOf, readText, type HttpDeps, type Peer } from '../http/common';
import { FAULT, Fault, faultResponse, methodResponse, parseMethodCall, xml, type XmlRpcValue } from './codec';

/**
 * XML-RPC (ejabberd's ejabberd_xmlrpc): the method is the command, the arguments a struct of
 * named members, optionally after an auth struct {user, server, password} or
 * {user, server, token}; the reply is the result struct, or a fault with ejabberd's codes.
 */
export async function handleXmlRpc(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'POST' }).end('XML-RPC calls are POST requests\n');
    return;
  }
  let body: string;
  try {
    const call = parseMethodCall(await readText(req));
    const argsStruct = call.params.length > 1 ? call.params[1] : (call.params[0] ?? {});
    const peer = peerOf(req, 'xmlrpc', deps.trustedProxy);
    const caller = call.params.length > 1 ? await authStruct(call.params[0], deps, peer) : await deps.authenticate(req.headers.authorization, peer);
    const command = deps.registry.get(call.method);
    if (!command) throw new Fault(FAULT.unknownCall, `Unknown call: ${call.method}`);
    if (!isStruct(argsStruct)) throw new Fault(FAULT.other, 'The arguments must be a struct of named members');
    const value = await deps.run(command, decodeArgs(command, argsStruct), caller);
    body = methodResponse(encodeResult(command.result, value));
  } catch (err) {
    body = err instanceof Fault ? faultResponse(err.faultCode, err.message) : faultResponse(faultCode(toCommandError(err)), toCommandError(err).message);
  }
  res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function isStruct(v: XmlRpcValue | undefined): v is { [name: string]: XmlRpcValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function authStruct(auth: XmlRpcValue, deps: HttpDeps, peer: Peer): Promise<Caller> {
  if (!isStruct(auth) || typeof auth.user !== 'string' || typeof auth.server !== 'string') {
    throw new Fault(FAULT.other, 'Invalid authentication data: the auth struct needs user, server and password or token');
  }
  // The struct names the account too: a token of someone else's is no better than none.
  if (typeof auth.token === 'string') return deps.authenticateToken(auth.token, peer, `${auth.user}@${auth.server}`);
  if (typeof auth.password === 'string') return deps.authenticatePassword(auth.user, auth.server, auth.password, peer);
  throw new Fault(FAULT.other, 'Invalid authentication data: the auth struct needs a password or a token');
}

function faultCode(e: CommandError): number {
  const problem = e.details?.problem;
  if (e.code === 'unknown_command') return FAULT.unknownCall;
  if (e.code !== 'bad_argument') return FAULT.other;
  return problem === 'missing' ? FAULT.missing : problem === 'unknown' ? FAULT.extra : FAULT.badType;
}

/** Members to arguments; members no argument has are passed on, for the executor to refuse. */
function decodeArgs(command: Command, struct: { [name: string]: XmlRpcValue }): Record<string, unknown> {
  const fields = callerArgs(command);
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(struct)) {
    const field = fields.find((f) => f.name === name);
    args[name] = field ? decodeAs(field, value) : value;
  }
  return args;
}

/** A list is an array of values or of one-member structs; a tuple an array of one-member structs, or a struct. */
function decodeAs(field: Field, value: XmlRpcValue): unknown {
  const t = field.type;
  const unwrap = (v: XmlRpcValue) => (isStruct(v) && Object.keys(v).length === 1 ? Object.values(v)[0] : v);
  if (t.kind === 'list') {
    if (!Array.isArray(value)) throw new Fault(FAULT.badType, `Parameter '${field.name}' must be an array`);
    return value.map((v) => decodeAs(t.elem, unwrap(v)));
  }
  if (t.kind === 'tuple') {
    const merged = Array.isArray(value) ? Object.assign({}, ...value.filter(isStruct)) : value;
    if (!isStruct(merged)) throw new Fault(FAULT.badType, `Parameter '${field.name}' must be a struct or an array of structs`);
    return Object.fromEntries(t.fields.map((f) => [f.name, merged[f.name] === undefined ? undefined : decodeAs(f, merged[f.name])]));
  }
  return value;
}

/** The result struct, in ejabberd's shapes (a tuple is an array of one-member structs). */
function encodeResult(result: Field, value: unknown): string {
  const t = result.type;
  if (t.kind === 'rescode') return xml.struct([[result.name, xml.int(value === true ? 0 : 1)]]);
  if (t.kind === 'restuple')
    return xml.struct([
      [result.name, xml.int(0)],
      ['text', xml.string(String(value))],
    ]);
  return xml.struct([[result.name, encode(t, value)]]);
}

function encode(t: Type, value: unknown): string {
  switch (t.kind) {
    case 'integer':
      return xml.int(value as number);
    case 'list':
      return xml.array((value as unknown[]).map((v) => xml.struct([[t.elem.name, encode(t.elem.type, v)]])));
    case 'tuple':
      return xml.array(t.fields.map((f) => xml.struct([[f.name, encode(f.type, (value as Record<string, unknown>)[f.name])]])));
    default:
      return xml.string(String(value));
  }
}
