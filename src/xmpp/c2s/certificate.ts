/**
 * The certificate the client listeners present: the configured PEM files, or else a self-signed
 * one for the served hosts, made once with the openssl command and kept in the node's home.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../config/config';
import { globToRegExp } from '../../lib/glob';

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/g;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The configured files when there are any, else the self-signed certificate of `<home>/certs`. */
export function loadCertificate(certfiles: readonly string[], hosts: readonly string[], homeDir: string): Certificate {
  return certfiles.length > 0 ? readCertfiles(certfiles) : selfSigned(hosts, path.join(homeDir, 'certs'));
}

/** Key and certificates may share a file or not; the first key found is the one used. */
function readCertfiles(files: readonly string[]): Certificate {
  let key: string | undefined;
  const certs: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(
        `Cannot read the certificate file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
    const keys = text.match(KEY_BLOCK) ?? [];
    const found = text.match(CERT_BLOCK) ?? [];
    if (keys.length === 0 && found.length === 0) throw new Error(`The certificate file ${file} holds neither a PEM private key nor a PEM certificate`);
    key ??= keys[0];
    certs.push(...found);
  }
  const list = files.join(', ');
  if (key === undefined) throw new Error(`No private key in the certificate files (${list})`);
  if (certs.length === 0) throw new Error(`No certificate in the certificate files (${list})`);
  const cert = certs.join('\n') + '\n';
  check({ key, cert }, list);
  return { key, cert };
}

/** A key that does not belong to the certificate is found at start, not at the first client's handshake. */
function check(certificate: Certificate, where: string): void {
  try {
    createSecureContext(certificate);
  } catch (err) {
    throw new Error(`The private key and certificate in ${where} cannot be used together: ${(err as Error).message}`);
  }
}

function selfSigned(hosts: readonly string[], dir: string): Certificate {
  const keyFile = path.join(dir, 'selfsigned.key');
  const certFile = path.join(dir, 'selfsigned.pem');
  const names = hosts.length > 0 ? hosts : ['localhost'];
  const existing = readIfCurrent(keyFile, certFile, names);
  if (existing) return existing;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const san = names.map((h) => `DNS:${h}`).join(',');
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        `/CN=${names[0]}`,
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
  } catch (err) {
    fs.rmSync(tmpKey, { force: true });
    fs.rmSync(tmpCert, { force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`Cannot make a self-signed certificate in ${dir} with openssl: ${stderr || (err as Error).message}`);
  }
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
}

/** The stored certificate, unless it is missing, expired, or names other hosts than those served now. */
function readIfCurrent(keyFile: string, certFile: string, names: readonly string[]): Certificate | undefined {
  let key: string;
  let cert: string;
  try {
    key = fs.readFileSync(keyFile, 'utf8');
    cert = fs.readFileSync(certFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) < Date.now()) return undefined;
    const stored = (x509.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim().replace(/^DNS:/, ''))
      .sort();
    if (stored.join('\n') !== [...names].sort().join('\n')) return undefined;
    createSecureContext({ key, cert });
  } catch {
    return undefined;
  }
  return { key, cert };
}

/**
 * The certificate of the configuration of the moment: the configured files (globs, as ejabberd
 * reads them) or the node's own; knows when the configuration names other files or hosts.
 */
export function certificateLoader(config: () => Pick<Config, 'certfiles' | 'hosts'>, homeDir: string) {
  let loadedFor = '';
  const identity = ({ certfiles, hosts }: Pick<Config, 'certfiles' | 'hosts'>) => JSON.stringify([certfiles, hosts]);
  return {
    load(): Certificate {
      const c = config();
      loadedFor = identity(c);
      return loadCertificate(expandCertfiles(c.certfiles), c.hosts, homeDir);
    },
    changed: () => identity(config()) !== loadedFor,
  };
}

/** ejabberd's certfiles are globs; a pattern that matches nothing is named in the error. */
function expandCertfiles(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    const paths = matchingPaths(pattern);
    if (paths.length === 0) throw new Error(`No certificate file matches ${pattern}`);
    out.push(...paths);
  }
  return out;
}

/** The paths a shell glob names, each part of the path matched in turn (a glob in a directory name too), sorted. */
function matchingPaths(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const { root } = path.parse(pattern);
  let found = [root];
  for (const part of pattern
    .slice(root.length)
    .split(path.sep)
    .filter((p) => p !== '')) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => path.join(dir, part));
      continue;
    }
    const re = globToRegExp(part);
    found = found.flatMap((dir) => {
      try {
        return fs
          .readdirSync(dir)
          .filter((name) => re.test(name))
          .sort()
          .map((name) => path.join(dir, name));
      } catch {
        // A directory that cannot be read matches nothing.
        return [];
      }
    });
  }
  return found.filter((p) => fs.existsSync(p));
}
