import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCertificate } from '../../../src/xmpp/c2s/certificate';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ctl-cert-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('loadCertificate', () => {
  test('without certfiles: a self-signed certificate for the hosts, key mode 0600, reused, remade when the hosts change', () => {
    const first = loadCertificate([], ['example.org', 'localhost'], home);
    const x509 = new X509Certificate(first.cert);
    expect(x509.subjectAltName).toBe('DNS:example.org, DNS:localhost');
    expect(x509.subject).toBe('CN=example.org');
    expect(fs.statSync(path.join(home, 'certs', 'selfsigned.key')).mode & 0o777).toBe(0o600);
    expect(loadCertificate([], ['localhost', 'example.org'], home)).toEqual(first);
    const other = loadCertificate([], ['example.net'], home);
    expect(other.cert).not.toBe(first.cert);
    expect(new X509Certificate(other.cert).subjectAltName).toBe('DNS:example.net');
  });

  test('certfiles: key and certificate in one file or in two', () => {
    const made = loadCertificate([], ['localhost'], home);
    const both = path.join(home, 'both.pem');
    fs.writeFileSync(both, made.cert + made.key);
    expect(loadCertificate([both], ['localhost'], home)).toEqual({ key: made.key.trim(), cert: made.cert.trim() + '\n' });
    const k = path.join(home, 'k.pem');
    const c = path.join(home, 'c.pem');
    fs.writeFileSync(k, made.key);
    fs.writeFileSync(c, made.cert);
    expect(loadCertificate([c, k], ['localhost'], home).cert).toBe(made.cert.trim() + '\n');
  });

  test('certfiles: clear errors naming the file', () => {
    const made = loadCertificate([], ['localhost'], home);
    const missing = path.join(home, 'nope.pem');
    expect(() => loadCertificate([missing], ['localhost'], home)).toThrow(`Cannot read the certificate file ${missing}: no such file`);
    const junk = path.join(home, 'junk.pem');
    fs.writeFileSync(junk, 'hello');
    expect(() => loadCertificate([junk], ['localhost'], home)).toThrow(`The certificate file ${junk} holds neither a PEM private key nor a PEM certificate`);
    const certOnly = path.join(home, 'c.pem');
    fs.writeFileSync(certOnly, made.cert);
    expect(() => loadCertificate([certOnly], ['localhost'], home)).toThrow(`No private key in the certificate files (${certOnly})`);
    const otherHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ctl-cert-'));
    const stranger = path.join(home, 'k.pem');
    fs.writeFileSync(stranger, loadCertificate([], ['localhost'], otherHome).key);
    fs.rmSync(otherHome, { recursive: true, force: true });
    expect(() => loadCertificate([certOnly, stranger], ['localhost'], home)).toThrow(/cannot be used together/);
  });
});
